-- sysbench workload for perf/shards.sh: one scatter aggregate over
-- sbtestall (perf/shards.sh: every sbtest table's rows), the same text every time (an event is one query).
--   sysbench perf/shards-scatter.lua --scatter=count|groupby|topn ... run
-- count    SELECT COUNT(*) FROM sbtestall
-- groupby  SELECT k % 100 AS g, SUM(k), COUNT(*) FROM sbtestall GROUP BY g ORDER BY g
-- topn     SELECT id, k FROM sbtestall ORDER BY k DESC LIMIT 10
-- mix      the three in turn (for profiling)
sysbench.cmdline.options = {
	scatter = {"which query: count, groupby, topn or mix", "count"},
	-- accepted (perf/bench.py passes them to every workload), unused
	tables = {"number of tables", 4},
	table_size = {"rows per table", 10000},
}

local QUERIES = {
	count = "SELECT COUNT(*) FROM sbtestall",
	groupby = "SELECT k % 100 AS g, SUM(k), COUNT(*) FROM sbtestall GROUP BY g ORDER BY g",
	topn = "SELECT id, k FROM sbtestall ORDER BY k DESC LIMIT 10",
}
local MIX = {QUERIES.count, QUERIES.groupby, QUERIES.topn}

function thread_init()
	drv = sysbench.sql.driver()
	con = drv:connect()
	n = 0
	if sysbench.opt.scatter ~= "mix" and not QUERIES[sysbench.opt.scatter] then
		error("unknown --scatter=" .. sysbench.opt.scatter)
	end
end

function thread_done()
	con:disconnect()
end

function event()
	if sysbench.opt.scatter == "mix" then
		n = n + 1
		con:query(MIX[n % 3 + 1])
	else
		con:query(QUERIES[sysbench.opt.scatter])
	end
end
