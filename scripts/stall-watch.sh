#!/usr/bin/env bash
# Usage: stall-watch.sh SOCKET LOG
#
# Runs beside an integration step (scripts/test.sh) and writes down what
# a stall looks like while it happens, so that a test that waited out a
# client's 60 s read timeout leaves evidence behind:
#   - "machine": this loop itself woke late (the host or VM stopped us);
#   - "mariadb slow": the server took over 3 s to list its threads;
#   - "mariadb long": a thread busy for 10 s or more (what and in which
#     state), which is how a lock or a stuck server thread shows;
#   - "stuck task": a myring thread that sat in the same kernel wait for
#     two samples in a row while some test waited (/proc/PID/task/*/stack,
#     readable as root), for the one case the others miss: a proxy that
#     stopped taking completions.
# Lines carry the seconds since the step began.  Only reads; never
# signals anything.
set -u
sock=$1
log=$2
ms() { date +%s%3N; }
t0=$(ms)
last=$t0
: >"$log"

stamp() { # now-in-ms
	local d=$(($1 - t0))
	printf '%5d.%d' $((d / 1000)) $((d % 1000 / 100))
}

declare -A seen_stack
while :; do
	sleep 2
	now=$(ms)
	gap=$((now - last))
	if ((gap > 5000)); then
		echo "$(stamp "$now") machine: this watch slept ${gap} ms instead of 2000" >>"$log"
	fi
	last=$now
	out=$(timeout 10 mariadb --no-defaults --protocol=socket -S "$sock" -uroot \
		-N -B -e "SELECT ID, USER, COMMAND, TIME, IFNULL(STATE, ''),
		LEFT(REPLACE(IFNULL(INFO, ''), '\n', ' '), 100)
		FROM information_schema.PROCESSLIST
		WHERE COMMAND NOT IN ('Sleep', 'Daemon') AND TIME >= 10
		AND ID <> CONNECTION_ID()" 2>&1)
	rc=$?
	took=$(($(ms) - now))
	if ((rc != 0)); then
		echo "$(stamp "$now") mariadb slow: no thread list (rc $rc after ${took} ms): $out" >>"$log"
	elif ((took > 3000)); then
		echo "$(stamp "$now") mariadb slow: the thread list took ${took} ms" >>"$log"
	fi
	[[ $rc == 0 && -n $out ]] && while IFS= read -r line; do
		echo "$(stamp "$now") mariadb long: $line" >>"$log"
	done <<<"$out"
	# myring threads parked in the same kernel wait across two samples
	# are normal when idle; they matter only beside a "long" or "slow"
	# line, so they are written only then.
	if [[ $rc != 0 || -n $out ]]; then
		for st in /proc/[0-9]*/task/[0-9]*/stack; do
			pid=${st#/proc/}
			pid=${pid%%/*}
			comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
			[[ $comm == myring ]] || continue
			top=$(head -n 3 "$st" 2>/dev/null | tr '\n' ' ')
			key=${st%/stack}
			if [[ -n ${seen_stack[$key]:-} && ${seen_stack[$key]} == "$top" ]]; then
				echo "$(stamp "$now") stuck task ${key#/proc/}: $top" >>"$log"
			fi
			seen_stack[$key]=$top
		done
	fi
done
