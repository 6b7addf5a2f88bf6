//! The examples and exit codes `--help` prints after each command's
//! options. Kept together so every command says the same thing the same
//! way; the exit-code convention is the one `cli` documents.

pub const TOP: &str = "\
Examples:
  tripline new pack my-pack          start a pack that checks, tests and builds
  tripline check                     check the pack of the current folder
  tripline test --filter 'dns_*'     run the tests of some rules
  tripline build --target splunk --out dist
  tripline explain E0301             what an error code means

Exit codes:
  0  clean (warnings allowed)
  1  rule errors, failing tests or refused rules
  2  usage or I/O errors (2 wins over 1)";

pub const CHECK: &str = "\
Examples:
  tripline check                       the pack of the current folder (or rules/)
  tripline check rules/dns.trip        one file, read with its whole pack
  tripline check --format sarif > check.sarif
  tripline check --target kql,splunk   also what these targets would refuse

Exit codes:
  0  no errors (warnings allowed, unless --deny-warnings)
  1  errors, or warnings with --deny-warnings
  2  usage or I/O errors";

pub const FMT: &str = "\
Examples:
  tripline fmt                 rewrite every file of the pack in the canonical layout
  tripline fmt --check         list the files that would change
  tripline fmt --diff rules/   show what would change, as a unified diff

Exit codes:
  0  every file is formatted (or was rewritten)
  1  a file would change (--check, --diff) or does not parse
  2  usage or I/O errors";

pub const TEST: &str = "\
Examples:
  tripline test
  tripline test --filter 'dns_*' --junit report.xml

Exit codes:
  0  every test passed
  1  rule errors or a failing test (each failure says which predicate,
     group or window fell short)
  2  usage or I/O errors";

pub const EVAL: &str = "\
Examples:
  tripline eval events.jsonl
  zcat dns.jsonl.gz | tripline eval --source dns --rules rules/ -

Exit codes:
  0  every event was read (matches and alerts on stdout)
  1  rule errors
  2  usage or I/O errors, or a limit that stops the run";

pub const BUILD: &str = "\
Examples:
  tripline build --target all --out dist
  tripline build --target sigma          one target, to stdout
  tripline build --target kql --skip-refused --out dist

Exit codes:
  0  every requested target was written
  1  rule errors, failing tests or refused rules (nothing is written)
  2  usage or I/O errors";

pub const COVERAGE: &str = "\
Examples:
  tripline coverage                           a table on stdout
  tripline coverage --svg coverage.svg --layer layer.json
  tripline coverage --tactic discovery,TA0006
  tripline coverage --min-coverage T1590,T1589

Exit codes:
  0  done; every --min-coverage technique is covered
  1  rule errors, or a --min-coverage technique without a rule
  2  usage or I/O errors (an unknown technique or tactic)";

pub const NEW: &str = "\
Examples:
  tripline new pack my-pack
  tripline new rule dns_tunnel --source dns --dir rules

Exit codes:
  0  the files were written
  2  usage or I/O errors (nothing is overwritten)";

pub const TAXONOMY: &str = "\
Examples:
  tripline taxonomy
  tripline taxonomy --format json --mapping default

Exit codes:
  0  printed
  2  usage or I/O errors";

pub const IMPORT: &str = "\
Examples:
  tripline import sigma my-sigma-rules/ --out imported/
  tripline import sigma sigma/rules/network --out imported/ --skip-refused

Exit codes:
  0  every rule imported (with --skip-refused: at least one, or none to import)
  1  a rule was refused and nothing was written (with --skip-refused: none imported)
  2  usage or I/O errors";

pub const EXPLAIN: &str = "\
Examples:
  tripline explain E0301
  tripline explain w7           the same as W0007

Exit codes:
  0  printed
  2  not a tripline code";

pub const LSP: &str = "\
Examples:
  tripline lsp          # started by an editor: see docs/editors.md

Exit codes:
  0  the editor sent `shutdown` then `exit`
  1  the input ended, or `exit` came without `shutdown`";

pub const COMPLETIONS: &str = "\
Examples:
  tripline completions bash > ~/.local/share/bash-completion/completions/tripline
  tripline completions zsh > \"${fpath[1]}/_tripline\"
  tripline completions fish > ~/.config/fish/completions/tripline.fish
  tripline completions powershell >> $PROFILE

Exit codes:
  0  printed
  2  usage or I/O errors";
