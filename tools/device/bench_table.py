#!/usr/bin/env python3
"""Turns bench-table.sh's log (lines 'ours NAME BxT <lmscope-cli bench line>', 'ref NAME <bench_reference.py line>',
'params NAME N parameters', 'path NAME <which reference kernels ran>') into a Markdown table: parameters, tokens/s and
peak GPU memory of both, ours / reference, and below it which reference path each config ran."""
import re, sys

ours, ref, params, paths = {}, {}, {}, {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 2:
        continue
    if parts[0] == 'params':
        params[parts[1]] = int(parts[2])
        continue
    if parts[0] == 'path':
        paths[parts[1]] = line.split(':', 1)[1].strip()
        continue
    tps = re.search(r'tokens/s ([0-9.]+)', line)
    mem = re.search(r'peak GPU memory ([0-9.]+) GiB', line)
    if not tps:
        continue
    if parts[0] == 'ours':
        ours[(parts[1], parts[2])] = (float(tps.group(1)), mem and float(mem.group(1)))
    elif parts[0] == 'ref':
        shape = re.search(r'batch (\d+) x seq (\d+)', line)
        ref[(parts[1], f'{shape.group(1)}x{shape.group(2)}')] = (float(tps.group(1)), mem and float(mem.group(1)))
# With our Gated DeltaNet 1.3B in the same run, every row is also put against it: issue 15's bar for a family whose
# only reference is an unoptimised torch path (≥ 0.8× of our GDN at the same shape).
gdn = {shape: v for (name, shape), v in ours.items() if name == 'gdn-1.3b'}
extra = ' ours / our GDN |' if gdn else ''
print('| config | parameters | batch × seq | lmscope tokens/s | peak GiB | reference tokens/s | peak GiB | ratio |' + extra)
print('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |' + (' ---: |' if gdn else ''))
for key in sorted(set(ours) | set(ref)):
    o, r = ours.get(key), ref.get(key)
    cell = lambda v, f: f.format(v) if v is not None else '—'  # noqa: E731
    ratio = f'{o[0] / r[0]:.2f}×' if o and r else '—'
    vs_gdn = ''
    if gdn:
        g = gdn.get(key[1])
        vs_gdn = f' {o[0] / g[0]:.2f}× |' if o and g else ' — |'
    print(f'| {key[0]} | {cell(params.get(key[0]), "{:,}")} | {key[1].replace("x", " × ")} | {cell(o and o[0], "{:,.0f}")} '
          f'| {cell(o and o[1], "{:.2f}")} | {cell(r and r[0], "{:,.0f}")} | {cell(r and r[1], "{:.2f}")} | {ratio} |{vs_gdn}')
if paths:
    print()
    for name in sorted(paths):
        print(f'- {name}: reference {paths[name]}')
