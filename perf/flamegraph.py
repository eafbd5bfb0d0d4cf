#!/usr/bin/env python3
"""perf script output (stdin) -> folded stacks -> interactive SVG flame graph.

A small self-contained renderer, so no download is needed: frames are laid
out root at the bottom, width proportional to samples; each rectangle has a
tooltip (name, samples, share) and clicking one zooms into it (click the
background to reset).  Also prints the top functions by self samples."""
import argparse
import collections
import html
import re
import sys


def fold(lines):
    stacks = collections.Counter()
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stacks[";".join(reversed(frames))] += 1
                frames = []
            continue
        if line[0] not in " \t":
            frames = []  # header line of a sample
            continue
        m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
        if not m:
            continue
        sym, dso = m.group(1), m.group(2)
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        if sym == "[unknown]":
            sym = "[%s]" % dso.split("/")[-1]
        frames.append(sym)
    if frames:
        stacks[";".join(reversed(frames))] += 1
    return stacks


class Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name):
        self.name, self.value, self.children = name, 0, {}


def build(stacks):
    root = Node("all")
    for stack, n in stacks.items():
        root.value += n
        node = root
        for f in stack.split(";"):
            node = node.children.setdefault(f, Node(f))
            node.value += n
    return root


def color(name):
    h = sum(map(ord, name)) % 60
    if name.startswith(("io_", "__io", "tcp_", "ip_", "sock", "__sys", "do_sys", "entry_")) or "[k]" in name:
        return "rgb(%d,%d,%d)" % (220, 120 + h, 60)
    return "rgb(%d,%d,%d)" % (230, 80 + h, 40 + h // 2)


def svg(root, title, width=1200, row=16):
    rects = []
    depth = [0]

    def walk(node, x, level, total):
        w = node.value / total * (width - 20)
        if w < 0.3:
            return
        depth[0] = max(depth[0], level)
        rects.append((x, level, w, node))
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            walk(child, cx, level + 1, total)
            cx += child.value / total * (width - 20)

    walk(root, 10, 0, root.value)
    height = (depth[0] + 3) * row + 40
    out = ['<?xml version="1.0" standalone="no"?>',
           '<svg version="1.1" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg" '
           'onload="init(evt)">' % (width, height),
           '<style>text{font:11px monospace} rect{stroke:white;stroke-width:0.5}</style>',
           '<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f8" onclick="reset()"/>' % (width, height),
           '<text x="10" y="20" style="font-size:15px">%s (%d samples)</text>' % (html.escape(title), root.value)]
    for i, (x, level, w, node) in enumerate(rects):
        y = height - (level + 2) * row
        share = 100.0 * node.value / root.value
        label = html.escape(node.name)
        out.append('<g class="f" data-x="%.2f" data-w="%.2f" onclick="zoom(this)"><title>%s (%d samples, %.2f%%)</title>'
                   '<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"/>'
                   '<text x="%.2f" y="%d">%s</text></g>' % (
                       x, w, label, node.value, share, x, y, w, row - 1, color(node.name),
                       x + 3, y + row - 4, label if w > 7 * len(node.name) else
                       (label[: int(w / 7) - 2] + ".." if w > 30 else "")))
    out.append("""<script><![CDATA[
var W=%d;function init(e){}
function each(f){var g=document.getElementsByClassName('f');for(var i=0;i<g.length;i++)f(g[i]);}
function zoom(el){var x0=+el.dataset.x,w0=+el.dataset.w,s=(W-20)/w0;
each(function(g){var x=+g.dataset.x,w=+g.dataset.w,r=g.firstElementChild.nextElementSibling,t=r.nextElementSibling;
var nx=10+(x-x0)*s,nw=w*s;if(x+w<=x0||x>=x0+w0+0.01){g.style.display='none';return;}
g.style.display='';r.setAttribute('x',nx);r.setAttribute('width',nw);t.setAttribute('x',nx+3);});}
function reset(){each(function(g){g.style.display='';var r=g.firstElementChild.nextElementSibling,t=r.nextElementSibling;
r.setAttribute('x',g.dataset.x);r.setAttribute('width',g.dataset.w);t.setAttribute('x',+g.dataset.x+3);});}
]]></script></svg>""" % width)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--svg", required=True)
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    stacks = fold(sys.stdin)
    if not stacks:
        sys.exit("flamegraph: no samples in the input")
    root = build(stacks)
    with open(a.svg, "w") as f:
        f.write(svg(root, a.title))
    selfc = collections.Counter()
    for stack, n in stacks.items():
        selfc[stack.split(";")[-1]] += n
    total = sum(stacks.values())
    print("top %d functions by self samples (%d samples):" % (a.top, total))
    for name, n in selfc.most_common(a.top):
        print("  %6.2f%%  %s" % (100.0 * n / total, name))


if __name__ == "__main__":
    main()
