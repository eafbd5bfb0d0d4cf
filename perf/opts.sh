# Sourced by perf/bench.sh and perf/intercept.sh: the options they share.
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
