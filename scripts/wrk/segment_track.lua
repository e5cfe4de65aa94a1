-- wrk script: single Segment /v1/track calls, each with a unique messageId.
local key = os.getenv("WRITE_KEY") or ""
local threads = 0
local counter = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  math.randomseed(os.time() + tid)
  prefix = "s" .. tid .. "-" .. math.random(1, 1000000000) .. "-"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. key
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/v1/track", nil,
    '{"anonymousId":"a' .. (counter % 50000) .. '","event":"view_product","messageId":"' .. prefix .. counter ..
    '","properties":{"sku":"SKU-1","price":12900},"context":{"page":{"url":"https://shop.example/p"}}}')
end
