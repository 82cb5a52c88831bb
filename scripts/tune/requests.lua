-- Replays a request file for `npm run tune` and prints the results as one JSON line from done().
--
--   wrk -t<T> -c<C> -d<D>s -s scripts/tune/requests.lua <url> -- <file> <start> <T>
--
-- File: one request per line, tab-separated: METHOD, PATH, any number of "Name: value" headers, BODY (the
-- last field, may be empty). "{n}" in a header value or the body becomes the request's global number
-- (fresh Idempotency-Keys).
-- Global numbering: thread t of T sends numbers start+t, start+t+T, ...; number g is line (g mod N)+1, so
-- consecutive runs given the previous run's nextStart never send a line twice until the list is used up;
-- numbers >= N are counted as "repeated" (single-use lists, such as seats to hold, were too short).

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local lines, prebuilt = {}, {}
local k = 0
statuses, codes, sent, repeated, N, start, T = {}, {}, 0, 0, 0, 0, 1

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local function build(r, g)
  if not r.template then return wrk.format(r.method, r.path, r.headers, r.body) end
  local n = tostring(g)
  local headers = {}
  for name, value in pairs(r.headers) do headers[name] = (value:gsub("{n}", n)) end
  local body = r.body and (r.body:gsub("{n}", n)) or nil
  return wrk.format(r.method, r.path, headers, body)
end

function init(args)
  local file = assert(args[1], "usage: -- <file> <start> <threads>")
  start = tonumber(args[2] or "0")
  T = tonumber(args[3] or "1")
  for line in io.lines(file) do
    if line ~= "" then
      local f = split(line)
      assert(#f >= 3, "a request line needs METHOD, PATH and BODY fields: " .. line)
      local headers = {}
      for i = 3, #f - 1 do
        local name, value = f[i]:match("^([^:]+):%s?(.*)$")
        if name then headers[name] = value end
      end
      local body = f[#f]
      lines[#lines + 1] = {
        method = f[1],
        path = f[2],
        headers = headers,
        body = (body ~= "" and body) or nil,
        template = line:find("{n}", 1, true) ~= nil,
      }
    end
  end
  N = #lines
  assert(N > 0, "no requests in " .. file)
  -- Format this thread's share of the unused lines now, so the measured run itself only sends.
  local g = start + tid
  while g < N do
    local r = lines[g + 1]
    if not r.template then prebuilt[g] = build(r, g) end
    g = g + T
  end
end

function request()
  local g = start + tid + k * T
  k = k + 1
  sent = k
  if g >= N then repeated = repeated + 1 end
  local i = g % N
  local raw = prebuilt[i]
  if raw then return raw end
  local r = lines[i + 1]
  raw = build(r, g)
  if not r.template then prebuilt[i] = raw end
  return raw
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and body then
    local code = body:match('"code":"([%u_]+)"')
    if code then codes[code] = (codes[code] or 0) + 1 end
  end
end

local function object(t)
  local parts = {}
  for key, value in pairs(t) do
    parts[#parts + 1] = string.format('"%s":%d', tostring(key), value)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_statuses, all_codes, next_start, issued, repeats, size = {}, {}, 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      all_statuses[status] = (all_statuses[status] or 0) + count
    end
    for code, count in pairs(thread:get("codes") or {}) do
      all_codes[code] = (all_codes[code] or 0) + count
    end
    local tid, n, first, t = thread:get("tid"), thread:get("sent"), thread:get("start"), thread:get("T")
    next_start = math.max(next_start, first + tid + n * t)
    issued = issued + n
    repeats = repeats + thread:get("repeated")
    size = thread:get("N")
  end
  local e = summary.errors
  io.write(string.format(
    'TUNE_JSON {"durationUs":%d,"requests":%d,' ..
    '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"statuses":%s,"codes":%s,"nextStart":%d,"issued":%d,"repeated":%d,"listSize":%d}\n',
    summary.duration, summary.requests,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout,
    object(all_statuses), object(all_codes), next_start, issued, repeats, size))
end
