-- wrk script: Segment /v1/batch requests of BATCH track events each, every event with a
-- unique messageId (so deduplication keeps them all) from anonymous web visitors.
local batch = tonumber(os.getenv("BATCH") or "500")
local key = os.getenv("WRITE_KEY") or ""
local names = { "visit", "view_product", "add_to_cart", "purchase" }
local threads = 0
local counter = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

-- The body is built once with placeholders in every messageId and anonymousId; each
-- request substitutes its own counter (a C-speed gsub), so the load generator spends
-- its CPU on sending rather than on building strings.
function init(args)
  math.randomseed(os.time() + tid)
  local prefix = "w" .. tid .. "-" .. math.random(1, 1000000000) .. "-"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. key
  local parts = {}
  for i = 1, batch do
    parts[i] = '{"type":"track","anonymousId":"a@A@-' .. (i % 100) ..
      '","event":"' .. names[(i % 4) + 1] .. '","messageId":"' .. prefix .. "@N@-" .. i ..
      '","properties":{"sku":"SKU-' .. (i % 50) .. '","price":12900},"context":{"page":{"url":"https://shop.example/p"}}}'
  end
  template = '{"batch":[' .. table.concat(parts, ",") .. ']}'
end

function request()
  counter = counter + 1
  -- 50,000 returning visitors: 500 groups of 100.
  local body = template:gsub("@N@", tostring(counter)):gsub("@A@", tostring(counter % 500))
  return wrk.format("POST", "/v1/batch", nil, body)
end
