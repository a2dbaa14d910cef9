-- wrk script: POST a new pod per request (names PREFIX-<thread>-<n>), into
-- namespace NS, authenticated with the bearer token TOKEN. Prints the
-- latency percentiles and the count of error responses as one line.
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local counter = 0
local prefix = os.getenv("PREFIX") or "wrk"
local path = "/api/v1/namespaces/" .. (os.getenv("NS") or "default") .. "/pods"
local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }

function request()
  counter = counter + 1
  local name = prefix .. "-" .. id .. "-" .. counter
  local body = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"' .. name .. '","labels":{"app":"bench","shard":"' .. (counter % 4) ..
    '"}},"spec":{"containers":[{"name":"main","image":"busybox:1.36","command":["sleep","3600"],"resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}'
  return wrk.format("POST", path, headers, body)
end

dofile(os.getenv("WRK_REPORT"))
