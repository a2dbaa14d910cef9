-- Shared by the wrk scripts: one machine-readable line at the end. With
-- WRK_ERRORS set, also the first error response of each status, so a failing
-- run can say why (only then: a response callback costs wrk CPU on every
-- response, which the server's share of the machine would pay for).
if os.getenv("WRK_ERRORS") then
  local seen = {}
  function response(status, headers, body)
    if status >= 400 and not seen[status] then
      seen[status] = true
      io.write("error response " .. status .. ": " .. string.sub(body, 1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("nami-wrk requests=%d errors=%d seconds=%.3f p50=%.3f p90=%.3f p99=%.3f max=%.3f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
