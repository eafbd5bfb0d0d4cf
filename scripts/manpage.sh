#!/usr/bin/env bash
# Writes the manual page myring(1) to stdout: the hand-written parts from
# docs/myring.1.in, the synopsis, the summary and every option from
# `myring --help` (src/cli.c, cli_usage()), which is the one description
# of the flags.  The unit test cli::help_lists_exactly_the_accepted_flags
# keeps --help complete, so the page is too.
#   scripts/manpage.sh build/myring docs/myring.1.in > build/myring.1
# The paths the page names come from the environment, as make install
# sets them: SYSCONFDIR (/etc), UNITDIR, DOCDIR.
# Fails, naming the line, on --help text it does not know how to lay out,
# so a change of that layout cannot silently drop options from the page.
set -euo pipefail
bin=$1
template=$2

help=$("$bin" --help)
version=$("$bin" --version | head -n 1)
version=${version#myring }
# The page's date: the build's reproducible time if given, else the last
# commit's, else today.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -d "@$epoch" +%Y-%m-%d)
sysconfdir=${SYSCONFDIR:-/etc}
unitdir=${UNITDIR:-/usr/local/lib/systemd/system}
docdir=${DOCDIR:-/usr/local/share/doc/myring}

# --help -> roff, in three parts separated by lines "@@DESCRIPTION@@" and
# "@@OPTIONS@@" (split below): synopsis, summary, options (+ epilogue).
roff=$(awk '
function esc(s) {
	gsub(/\\/, "\\e", s)
	# Flags named in running text: bold, with unbreakable minus signs.
	s = flags_bold(s)
	return s
}
function flags_bold(s,    out, m) {
	out = ""
	while (match(s, /(^|[^a-zA-Z0-9-])--[a-zA-Z][a-zA-Z0-9-]*/)) {
		m = substr(s, RSTART, RLENGTH)
		pre = ""
		if (m !~ /^-/) { pre = substr(m, 1, 1); m = substr(m, 2) }
		out = out substr(s, 1, RSTART - 1) pre "\\fB" minus(m) "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	return out s
}
function minus(s) { gsub(/-/, "\\-", s); return s }
# A flag'"'"'s argument: placeholders (upper case) in italics, literal
# words (on|off|auto) in bold.
function arg(s,    out) {
	out = ""
	while (match(s, /[A-Z][A-Z0-9_]*|[a-z][a-z0-9-]*/)) {
		t = substr(s, RSTART, RLENGTH)
		out = out minus(substr(s, 1, RSTART - 1)) \
		      (t ~ /^[A-Z]/ ? "\\fI" t "\\fR" : "\\fB" minus(t) "\\fR")
		s = substr(s, RSTART + RLENGTH)
	}
	return out minus(s)
}
# "--listen HOST:PORT" or "-V, --version" -> roff.
function flagline(s,    n, w, i, out) {
	n = split(s, w, " ")
	out = ""
	for (i = 1; i <= n; i++) {
		if (w[i] ~ /^-/) {
			comma = sub(/,$/, "", w[i])
			out = out (i > 1 ? " " : "") "\\fB" minus(w[i]) "\\fR" (comma ? "," : "")
		} else if (w[i] ~ /^\[.*\]$/) {
			out = out " [\\fI" substr(w[i], 2, length(w[i]) - 2) "\\fR]"
		} else {
			out = out " " arg(w[i])
		}
	}
	return out
}
function fail(why) {
	printf "scripts/manpage.sh: --help line %d: %s: %s\n", NR, why, $0 > "/dev/stderr"
	bad = 1
	exit 1
}
function flush_opt() {
	if (opt != "") {
		print ".TP"
		print flagline(opt)
		print esc(desc)
	}
	opt = ""
	desc = ""
}
BEGIN { part = "synopsis" }
part == "synopsis" {
	if ($0 == "") { part = "summary"; print "@@DESCRIPTION@@"; next }
	line = $0
	sub(/^Usage: +/, "", line)
	sub(/^ +/, "", line)
	if (line !~ /^myring /) fail("expected a usage line")
	if (nsyn++) print ".br"
	print ".B myring"
	print flagline(substr(line, 8))
	next
}
part == "summary" {
	if ($0 == "") { part = "options"; print "@@OPTIONS@@"; next }
	print esc($0)
	next
}
part == "options" {
	if ($0 == "") { flush_opt(); part = "epilogue"; next }
	if ($0 ~ /^[A-Z][^ ].*:$/) {
		flush_opt()
		print ".SS \"" substr($0, 1, length($0) - 1) "\""
	} else if ($0 ~ /^  -/) {
		flush_opt()
		line = substr($0, 3)
		if (!match(line, /   */)) fail("option without a description")
		opt = substr(line, 1, RSTART - 1)
		desc = substr(line, RSTART + RLENGTH)
	} else if ($0 ~ /^    +[^ ]/) {
		if (opt == "") fail("continuation line without an option")
		line = $0
		sub(/^ +/, "", line)
		desc = desc "\n" line
	} else {
		fail("not a section title, an option or its continuation")
	}
	next
}
part == "epilogue" {
	# "Title: text" starts a section of its own.
	if ($0 == "") { need_pp = 1; next }
	if (match($0, /^[A-Z][a-z]+( [a-z]+)*: /) && (need_pp || !started)) {
		title = toupper(substr($0, 1, RLENGTH - 2))
		print ".SH \"" title "\""
		print esc(substr($0, RLENGTH + 1))
	} else {
		if (need_pp) print ".PP"
		print esc($0)
	}
	started = 1
	need_pp = 0
	next
}
END { if (!bad && part != "epilogue") flush_opt() }
' <<<"$help")

# Each part without the newlines around it.
trim() {
	local s=$1
	s=${s#$'\n'}
	printf '%s' "${s%$'\n'}"
}
synopsis=$(trim "${roff%%@@DESCRIPTION@@*}")
rest=${roff#*@@DESCRIPTION@@}
summary=$(trim "${rest%%@@OPTIONS@@*}")
options=$(trim "${rest#*@@OPTIONS@@}")

while IFS= read -r line; do
	case $line in
	@SYNOPSIS@) printf '%s\n' "$synopsis" ;;
	@SUMMARY@) printf '%s\n' "$summary" ;;
	@OPTIONS@) printf '%s\n' "$options" ;;
	*)
		line=${line//@VERSION@/$version}
		line=${line//@DATE@/$date}
		line=${line//@SYSCONFDIR@/$sysconfdir}
		line=${line//@UNITDIR@/$unitdir}
		printf '%s\n' "${line//@DOCDIR@/$docdir}"
		;;
	esac
done <"$template"
