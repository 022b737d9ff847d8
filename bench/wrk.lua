-- The one wrk script of bench/run.py.
--
-- Environment (set by run.py for each wrk process):
--   BENCH_BODIES  a file of pre-made requests, one per line: "<sign>\t<json body>" (sign may be
--                 empty). Each wrk thread takes its own contiguous slice of BENCH_COUNT lines and
--                 sends them in order, one per request, so every signed request is sent once.
--   BENCH_COUNT   number of lines in BENCH_BODIES
--   BENCH_THREADS wrk's -t (how many slices)
--   BENCH_BODY    without BENCH_BODIES: the one body every request sends
--   BENCH_METHOD  POST (default) or GET
--   BENCH_AUTH    optional: sent as "Authorization: Bearer <BENCH_AUTH>"
--   BENCH_CTYPE   Content-Type of the body (default application/json)
-- Each thread prints READY once its requests are loaded (wrk's clock starts after the last one).
-- At the end it prints one line that run.py parses:
--   RESULT rps=.. p50_ms=.. p99_ms=.. reqs=.. secs=.. non2xx=.. status_err=.. sockerr=.. timeouts=.. exhausted=..
-- and, when some answers were not 2xx, up to one SAMPLE line per thread (status and body start).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local reqs = {}
local n, i = 0, 0
non2xx, exhausted, sample = 0, 0, ""

local function headers_for(sign)
   local h = {}
   h["Host"] = wrk.headers["Host"]
   local method = os.getenv("BENCH_METHOD") or "POST"
   if method ~= "GET" then
      h["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/json"
   end
   local auth = os.getenv("BENCH_AUTH")
   if auth and auth ~= "" then h["Authorization"] = "Bearer " .. auth end
   if sign and sign ~= "" then h["sign"] = sign end
   return h
end

function init(args)
   local method = os.getenv("BENCH_METHOD") or "POST"
   local file = os.getenv("BENCH_BODIES")
   if file and file ~= "" then
      local total = tonumber(os.getenv("BENCH_COUNT"))
      local nthreads = tonumber(os.getenv("BENCH_THREADS"))
      local per = math.floor(total / nthreads)
      local lo, hi = tid * per + 1, (tid + 1) * per
      local k = 0
      for line in io.lines(file) do
         k = k + 1
         if k > hi then break end
         if k >= lo then
            local tab = line:find("\t", 1, true)
            local sign, body = line:sub(1, tab - 1), line:sub(tab + 1)
            n = n + 1
            reqs[n] = wrk.format(method, nil, headers_for(sign), body)
         end
      end
   else
      local body = os.getenv("BENCH_BODY")
      if method == "GET" then body = nil end
      n = 1
      reqs[1] = wrk.format(method, nil, headers_for(nil), body)
   end
   -- wrk starts its clock once every thread is initialised: run.py starts counting CPU here
   io.write("READY\n")
   io.flush()
end

function request()
   if i < n then
      i = i + 1
   elseif n > 1 then
      -- out of pre-made requests: resend the last one (the server refuses it as a replay)
      exhausted = exhausted + 1
   end
   return reqs[i > 0 and i or 1]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if sample == "" then
         sample = status .. " " .. string.sub(string.gsub(body or "", "[\r\n]", " "), 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   local bad, out = 0, 0
   local samples = {}
   for _, t in ipairs(threads) do
      bad = bad + (t:get("non2xx") or 0)
      out = out + (t:get("exhausted") or 0)
      local s = t:get("sample")
      if s and s ~= "" then table.insert(samples, s) end
   end
   io.write(string.format(
      "RESULT rps=%.2f p50_ms=%.3f p99_ms=%.3f reqs=%d secs=%.3f non2xx=%d status_err=%d sockerr=%d timeouts=%d exhausted=%d\n",
      summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      summary.requests, secs, bad, e.status, e.connect + e.read + e.write, e.timeout, out))
   for _, s in ipairs(samples) do io.write("SAMPLE " .. s .. "\n") end
end
