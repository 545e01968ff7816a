-- wrk script: POST /predict_onnx with the example request; prints one RESULT line with exact percentiles.
wrk.method = "POST"
wrk.path = "/predict_onnx"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"lagging_reactive_power": 23.45, "leading_reactive_power": 0.0, "co2": 0.02, ' ..
  '"lagging_power_factor": 0.78, "leading_power_factor": 1.0, "nsm": 36000, "day_of_week": 2, "load_type": "Medium"}'

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.1f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end

-- WRK_DELAY_MS set: each connection pauses that long between requests, so the rate is about
-- connections / (delay + latency): a paced load below capacity (benchmarks/soak.py).
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if delay_ms then
  delay = function() return delay_ms end
end
