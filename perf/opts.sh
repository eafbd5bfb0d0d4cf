# Sourced by the perf/ scripts: the options they share.
# perf_opts SCRIPT_NAME "$@" sets QUICK, REPEATS, CPUS and UPDATE.
perf_opts() {
	local name=$1
	shift
	QUICK=0 REPEATS=3 UPDATE=0
	CPUS="0-$(($(nproc) - 1))"
	while (($#)); do
		case "$1" in
		--quick) QUICK=1 ;;
		--repeats) REPEATS=$2; shift ;;
		--cpus) CPUS=$2; shift ;;
		--update-results) UPDATE=1 ;;
		*) echo "$name: unknown option $1" >&2; exit 2 ;;
		esac
		shift
	done
}

# perf_rig_setup SCRIPT_NAME "$@": what the benchmarks on the shard rig
# (perf/shards.sh, perf/xa.sh) do first: their options (two repeats by
# default with --quick), their packages, the build.
perf_rig_setup() {
	local name=$1 a given=0
	shift
	for a in "$@"; do [[ $a == --repeats ]] && given=1; done
	perf_opts "$name" "$@"
	[[ $QUICK == 1 && $given == 0 ]] && REPEATS=2
	bash scripts/deps.sh perf
	make -s build/myring
	mkdir -p perf/out
}
