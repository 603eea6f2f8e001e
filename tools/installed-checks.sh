#!/usr/bin/env bash
# Uses an installed lmscope package as a user would, with the installed commands and files only (no source tree,
# no build): run by tools/test-deb-in-chroot.sh inside a fresh Debian 12 as an ordinary user.
#   installed-checks.sh cli VERSION   versions, man page, desktop entry and icon, demo, demo report, every task kind
#   installed-checks.sh gui VERSION   the desktop entry validated, the GUI's --screenshots mode (needs xvfb-run,
#                                     xauth and desktop-file-validate)
# VERSION is the package's; every binary, the man page and the reports must state it. What the checks write (the
# demo report, the evaluation's results, the screenshots) goes to a temporary folder, or to LMSCOPE_CHECKS_OUT (kept).
set -euo pipefail
phase=${1:?usage: installed-checks.sh cli|gui VERSION}
expected=${2:?usage: installed-checks.sh cli|gui VERSION}
share=/usr/share/lmscope
if [ -n "${LMSCOPE_CHECKS_OUT:-}" ]; then
  work=$LMSCOPE_CHECKS_OUT
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
t0=$SECONDS
step() { printf '\n== [%4d s] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { echo "installed-checks: FAILED: $*" >&2; exit 1; }
has() { grep -qF -- "$2" "$1" || fail "$1 does not contain '$2'"; }

cli_checks() {
  step "versions"
  [ "$(dpkg-query -W -f='${Version}' lmscope)" = "$expected" ] || fail "dpkg says $(dpkg-query -W -f='${Version}' lmscope)"
  [ "$(lmscope-cli --version)" = "lmscope-cli $expected" ] || fail "lmscope-cli --version says '$(lmscope-cli --version)'"
  # The GUI needs a Qt platform even to print its version; offscreen comes with libqt6gui6.
  gui_version=$(QT_QPA_PLATFORM=offscreen lmscope --version 2>/dev/null)
  [ "$gui_version" = "lmscope $expected" ] || fail "lmscope --version says '$gui_version'"
  echo "lmscope-cli, lmscope and dpkg: $expected"

  step "man page"
  page=/usr/share/man/man1/lmscope-cli.1.gz
  [ -s "$page" ] || fail "$page is missing"
  gzip -dc "$page" >"$work/page.1"
  lmscope-cli --man >"$work/man.1"
  cmp -s "$work/page.1" "$work/man.1" || fail "$page differs from lmscope-cli --man"
  has "$work/page.1" ".TH LMSCOPE\\-CLI 1"
  has "$work/page.1" "\"lmscope ${expected//-/\\-}\""
  for command in $(lmscope-cli --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p'); do
    has "$work/page.1" ".SS $command"
  done
  echo "$page: installed, current, every command of --help"

  step "desktop entry and icon"
  desktop=/usr/share/applications/lmscope.desktop
  [ -s "$desktop" ] || fail "$desktop is missing"
  exec_line=$(sed -n 's/^Exec=//p' "$desktop")
  command -v "${exec_line%% *}" >/dev/null || fail "the desktop entry runs '${exec_line%% *}', which is not installed"
  icon=$(sed -n 's/^Icon=//p' "$desktop")
  [ -s "/usr/share/icons/hicolor/scalable/apps/$icon.svg" ] || fail "icon '$icon' is not installed"
  has "/usr/share/icons/hicolor/scalable/apps/$icon.svg" "<svg"
  echo "$desktop runs ${exec_line%% *}; icon $icon.svg"

  step "lmscope-cli inspect, the demo models"
  for m in demo-llama demo-gdn demo-bytes; do lmscope-cli inspect --model "$share/models/$m" | head -n 2; done

  step "lmscope-cli demo"
  lmscope-cli demo | tee "$work/demo.txt"
  has "$work/demo.txt" "bits/byte"
  has "$work/demo.txt" "greedy"

  step "lmscope-cli demo --report (figures drawn by the installed GUI, headless)"
  lmscope-cli demo --report "$work/report" >"$work/report.txt" 2>&1 || { cat "$work/report.txt"; fail "demo --report"; }
  tail -n 2 "$work/report.txt"
  has "$work/report.txt" "figures (PNG, PDF, SVG)"
  for f in perplexity_vs_length passkey_heatmaps; do
    for ext in png pdf svg; do [ -s "$work/report/$f.$ext" ] || fail "the report has no $f.$ext"; done
  done
  for f in comparison.csv comparison.tex comparison.md comparison.json results.json spec.json store.sqlite; do
    [ -s "$work/report/$f" ] || fail "the report has no $f"
  done
  has "$work/report/results.json" "\"version\": \"$expected\""
  has "$work/report/index.md" "by lmscope $expected"
  echo "report: $(ls "$work/report" | wc -l) files; results.json and index.md state $expected"

  step "lmscope-cli run: every task kind on small inputs made here"
  evaluations
}

# One evaluation of every task kind. The data sets of the real tasks (WikiText, LAMBADA, the multiple-choice sets,
# the recall sets) are not shipped: each gets two small records in its Hugging Face layout, written here. The long
# documents are the shipped demo text. Model: the byte-level demo model, which every task accepts (charlevel needs
# one); the BPE models ran in the demo report.
evaluations() {
  local d=$work/eval
  mkdir -p "$d"
  twice() { printf '%s\n%s\n' "$2" "$2" >"$d/$1.jsonl"; }
  twice hellaswag '{"activity_label": "Baking", "ctx_a": "A man kneads dough.", "ctx_b": "he", "endings": ["puts it in the oven.", "eats the table.", "flies away.", "sings loudly."], "label": "0"}'
  twice piqa '{"goal": "Keep bread fresh", "sol1": "Wrap it in a cloth.", "sol2": "Leave it in the rain.", "label": 0}'
  twice arc_easy '{"question": "Which is a liquid?", "choices": {"text": ["water", "stone", "wood", "iron"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"}'
  twice arc_challenge '{"question": "Which is a gas?", "choices": {"text": ["steam", "ice"], "label": ["1", "2"]}, "answerKey": "1"}'
  twice winogrande '{"sentence": "The cup fell off the table because _ was slippery.", "option1": "the cup", "option2": "the table", "answer": "1"}'
  twice boolq '{"passage": "The sea is salty.", "question": "is the sea salty", "label": 1}'
  twice copa '{"premise": "The glass broke.", "choice1": "It fell on the floor.", "choice2": "It was full of water.", "question": "cause", "label": 0}'
  twice sciq '{"question": "What do plants need?", "distractor1": "salt", "distractor2": "sand", "distractor3": "oil", "correct_answer": "light", "support": "Plants need light."}'
  twice social_iqa '{"context": "Ann gave Bob a gift.", "question": "How would Bob feel?", "answerA": "happy", "answerB": "angry", "answerC": "bored", "label": "1"}'
  twice lambada '{"text": "The boats came back to the harbour with the evening tide, and the fishermen carried their nets up to the sheds"}'
  twice swde '{"text": "Title: The Harbour Inn. Town: Port Ellen. Rooms: twelve. Town:", "value": "Port Ellen"}'
  printf ' = Harbour = \n\n %s \n\n = Tide = \n\n %s \n' "$(head -c 1500 "$share/demo/harbour.txt" | tr '\n' ' ')" \
    "$(tail -c 1500 "$share/demo/harbour.txt" | tr '\n' ' ')" >"$d/wiki.test.raw"
  local text=$share/demo/harbour.txt mc=""
  for t in hellaswag piqa arc_easy arc_challenge winogrande boolq copa sciq social_iqa; do
    mc+="{\"task\": \"$t\", \"data\": \"$t.jsonl\"}, "
  done
  cat >"$d/spec.json" <<SPEC
{"lmscope_run": 1, "name": "package check",
 "models": [{"path": "$share/models/demo-bytes", "name": "demo-bytes", "tokenizer": "bytes"}],
 "tasks": [$mc
  {"task": "wikitext", "data": "wiki.test.raw", "max_length": 256},
  {"task": "lambada_openai", "data": "lambada.jsonl"},
  {"task": "ppl_vs_length", "data": "$text", "lengths": [128, 512]},
  {"task": "passkey", "lengths": [400], "depths": [0.0, 1.0], "trials": 1},
  {"task": "longppl", "data": "$text", "trunc_len": 64, "sliding_window": 32, "length": 512},
  {"task": "charlevel", "data": "$text", "max_length": 256, "segment_bytes": 2048, "continuation_items": 4},
  {"task": "recall", "data": "swde.jsonl", "max_new_tokens": 8},
  {"task": "ruler", "tasks": ["niah_single_1", "niah_single_2"], "lengths": [1024], "samples": 2,
   "max_new_tokens": 16, "haystack_file": "$text"},
  {"task": "throughput", "seq": [128], "repeats": 1}]}
SPEC
  lmscope-cli run "$d/spec.json" --store "$d/store.sqlite" --out "$d/results.json" --quiet >"$d/run.txt" 2>&1 ||
    { cat "$d/run.txt"; fail "lmscope-cli run"; }
  local ran="hellaswag piqa arc_easy arc_challenge winogrande boolq copa sciq social_iqa wikitext lambada_openai
             ppl_vs_length passkey longppl charlevel recall ruler throughput"
  # compare (a model token by token against a base with the same tokenizer): the two BPE demo models.
  if lmscope-cli tasks --names | grep -qx compare; then
    lmscope-cli run --model "$share/models/demo-llama" --task compare --data "$text" --store "$d/store.sqlite" \
      --settings "{\"base\": \"$share/models/demo-gdn\", \"length\": 256, \"max_windows\": 2}" --quiet \
      >"$d/compare.txt" 2>&1 || { cat "$d/compare.txt"; fail "lmscope-cli run --task compare"; }
    ran+=" compare"
  fi
  lmscope-cli results --store "$d/store.sqlite" | tee "$d/results.txt"
  for t in $ran; do
    grep -qE "(^|[^a-z_])$t([^a-z_]|$)" "$d/results.txt" || fail "no result for task $t"
  done
  # A task kind added later fails here until it gets an evaluation above (RULER's niah_* ran as "ruler").
  for t in $(lmscope-cli tasks --names); do
    case " $(echo $ran) " in *" $t "*) ;; *) [[ $t == niah_* ]] || fail "task $t has no evaluation in installed-checks.sh" ;; esac
  done
  has "$d/results.json" "\"version\": \"$expected\""
  echo "every task kind ran; results.json states $expected"
}

gui_checks() {
  step "desktop-file-validate"
  desktop-file-validate /usr/share/applications/lmscope.desktop >"$work/desktop.txt" 2>&1 || true
  # Errors, warnings and hints alike: the entry should give none.
  [ ! -s "$work/desktop.txt" ] || { cat "$work/desktop.txt"; fail "desktop-file-validate"; }
  echo "lmscope.desktop: valid"
  step "lmscope --screenshots under Xvfb"
  XDG_CONFIG_HOME=$work/config timeout 600 xvfb-run -a -s "-screen 0 1600x1000x24" \
    lmscope --store "$work/gui.sqlite" --screenshots "$work/shots" --demo-text "$share/demo/harbour.txt" \
    "$share/models/demo-llama" "$share/models/demo-bytes" >"$work/gui.txt" 2>&1 || { cat "$work/gui.txt"; fail "lmscope --screenshots"; }
  for f in queue-running workbench-perplexity passkey-heatmaps comparison-table; do
    [ -s "$work/shots/$f.png" ] || fail "no screenshot $f.png"
    [ "$(head -c 4 "$work/shots/$f.png" | tail -c 3)" = PNG ] || fail "$f.png is no PNG"
  done
  ls -l "$work/shots"
}

case $phase in
  cli) cli_checks ;;
  gui) gui_checks ;;
  *) fail "unknown phase '$phase' (cli or gui)" ;;
esac
step "installed-checks $phase: ok"
