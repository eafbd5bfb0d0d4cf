-- sysbench workload for perf/xa.sh: one transfer-like transaction per
-- event, touching --shards of the keyspace's four shards (1: an ordinary
-- transaction on one shard; 2 or 4: two-phase commit over XA).
--   sysbench perf/xa.lua --shards=2 --ids-dir=DIR --samples=FILE ... run
-- Each event: BEGIN; one UPDATE per shard (a random account of that
-- shard, from DIR/ids-N, the ids each shard holds); COMMIT.  With
-- --mode=autocommit: one UPDATE ... WHERE id IN (an account per shard).  The COMMIT's
-- own latency is written, one sample per line in microseconds, to
-- FILE.THREAD when the thread ends (perf/xa.py reads them).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } xa_timespec;
int clock_gettime(int clk, xa_timespec *ts);
]]

sysbench.cmdline.options = {
	shards = {"shards each transaction touches (1, 2 or 4)", 2},
	mode = {"txn: BEGIN, an UPDATE per shard, COMMIT; autocommit: one "
		.. "UPDATE ... WHERE id IN (one account per shard), atomic "
		.. "over the shards on its own", "txn"},
	ids_dir = {"directory with ids-0 .. ids-3", "."},
	samples = {"file prefix for the COMMIT latencies", ""},
	-- accepted (perf/bench.py passes them to every workload), unused
	tables = {"number of tables", 4},
	table_size = {"rows per table", 10000},
}

local ts = ffi.new("xa_timespec")
local function now_us()
	ffi.C.clock_gettime(1, ts)
	return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local ids = {}

function thread_init()
	drv = sysbench.sql.driver()
	con = drv:connect()
	for s = 0, 3 do
		ids[s] = {}
		for line in io.lines(sysbench.opt.ids_dir .. "/ids-" .. s) do
			ids[s][#ids[s] + 1] = line
		end
		if #ids[s] == 0 then
			error("no ids for shard " .. s)
		end
	end
	samples = {}
	open = false
end

function thread_done()
	if sysbench.opt.samples ~= "" then
		local f = io.open(sysbench.opt.samples .. "." .. sysbench.tid, "w")
		for i = 1, #samples do
			f:write(string.format("%.1f\n", samples[i]))
		end
		f:close()
	end
	con:disconnect()
end

-- One autocommit statement: WHERE id = a on one shard (an ordinary
-- autocommit write), WHERE id IN (a, b, ...) with one account on each
-- of k shards (a distributed transaction of its own, docs/transactions.md).
local function autocommit_event(k, first)
	local in_list = {}
	for i = 0, k - 1 do
		local list = ids[(first + i) % 4]
		in_list[#in_list + 1] = list[sysbench.rand.uniform(1, #list)]
	end
	local where = k == 1 and ("id = " .. in_list[1]) or
		      ("id IN (" .. table.concat(in_list, ", ") .. ")")
	con:query("UPDATE accounts SET balance = balance + 1 WHERE " .. where)
end

function event()
	local k = sysbench.opt.shards
	local first = sysbench.rand.uniform(0, 3)
	if sysbench.opt.mode == "autocommit" then
		autocommit_event(k, first)
		return
	end
	-- An event cut short by an ignored error (a deadlock) left its
	-- transaction open: end it before the next.
	if open then
		con:query("ROLLBACK")
		open = false
	end
	con:query("BEGIN")
	open = true
	for i = 0, k - 1 do
		local s = (first + i) % 4
		local list = ids[s]
		local id = list[sysbench.rand.uniform(1, #list)]
		con:query("UPDATE accounts SET balance = balance + 1 WHERE id = " .. id)
	end
	local t0 = now_us()
	con:query("COMMIT")
	samples[#samples + 1] = now_us() - t0
	open = false
end
