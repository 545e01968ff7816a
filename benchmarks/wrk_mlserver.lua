-- wrk script: MLServer's V2 inference protocol, POST /v2/models/steel-energy/infer with one row of the 14 FP32
-- features that service.features.build_features makes of wrk_predict.lua's example request; the same RESULT line.
-- Everything else (method, JSON header, the done function printing RESULT, WRK_DELAY_MS) comes from
-- wrk_predict.lua beside this file, loaded here so both servers are measured by one done function.
-- benchmarks/mlserver_compare.py reads the path and body below for its check before load: keep each on one line.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_predict.lua")
wrk.path = "/v2/models/steel-energy/infer"
wrk.body = '{"inputs": [{"name": "features", "shape": [1, 14], "datatype": "FP32", "data": [23.45, 0.0, 0.02, 0.78, 1.0, 36000.0, 2.0, 1.0, 10.0, 0.5, -0.8660254, 0.0, 29.229145, 0.0]}]}'
