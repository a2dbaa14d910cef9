-- wrk script: a JSON merge patch of one label per request, over the pods
-- TARGET-1 .. TARGET-COUNT in namespace NS (created beforehand), with the
-- bearer token TOKEN. Prints the latency percentiles and the count of error
-- responses as one line.
local counter = 0
local count = tonumber(os.getenv("COUNT") or "1000")
local base = "/api/v1/namespaces/" .. (os.getenv("NS") or "default") .. "/pods/" .. (os.getenv("TARGET") or "target") .. "-"
local headers = { ["Content-Type"] = "application/merge-patch+json", ["Accept"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }

function request()
  counter = counter + 1
  return wrk.format("PATCH", base .. ((counter % count) + 1), headers, '{"metadata":{"labels":{"touched":"' .. counter .. '"}}}')
end

dofile(os.getenv("WRK_REPORT"))
