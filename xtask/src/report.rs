//! `cargo xtask bench` writes its figures into BENCHMARKS.md: each goal beside the figure measured for it, the machine, how to run it again.
//!
//! The benches print `FIGURE what: value` lines. This module keeps them as they stream past, reads
//! the number each goal is about out of its line, and replaces the generated section at the top of
//! BENCHMARKS.md (between two markers); the entries below it, written by hand, stay as they are.

use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BEGIN: &str = "<!-- cargo xtask bench: begin (generated; edits here are replaced) -->";
const END: &str = "<!-- cargo xtask bench: end -->";

/// What a goal compares, read from the text after the figure's name.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// The first number.
    First,
    /// The first number after this text.
    After(&'static str),
    /// The last number before this text.
    Before(&'static str),
    /// The last number before any bracket (`100 / 100 / 100 (…)`).
    Last,
    /// Every number after this text (each of `wasm 136 MiB`): the last over the first.
    Growth(&'static str),
}

/// How the number read meets the goal.
#[derive(Debug, Clone, Copy)]
enum Bound {
    AtMost(f64),
    Below(f64),
    AtLeast(f64),
    /// No goal of its own: shown beside one, for what it says about it.
    Shown,
}

/// A goal of the issue that set the figures, and the figure line that answers it.
struct Goal {
    /// The goal as people read it.
    goal: &'static str,
    /// The figure's name exactly as the bench prints it (after `FIGURE `, before `: `).
    figure: &'static str,
    read: Read,
    bound: Bound,
}

const GOALS: &[Goal] = &[
    Goal {
        goal: "shell, gzip -9: ≤ 200 KiB",
        figure: SHELL_FIGURE,
        read: Read::First,
        #[expect(clippy::cast_precision_loss, reason = "a few hundred KiB")]
        bound: Bound::AtMost(crate::shell::SHELL_GOAL_BYTES as f64 / 1024.0),
    },
    Goal {
        goal: "Lighthouse 12.8 mobile performance: 100",
        figure: "Lighthouse 12.8 mobile, login page (median of 3): performance / accessibility / best practices",
        read: Read::First,
        bound: Bound::AtLeast(100.0),
    },
    Goal {
        goal: "Lighthouse accessibility: 100",
        figure: "Lighthouse 12.8 mobile, login page (median of 3): performance / accessibility / best practices",
        read: Read::After("/"),
        bound: Bound::AtLeast(100.0),
    },
    Goal {
        goal: "Lighthouse best practices: 100",
        figure: "Lighthouse 12.8 mobile, login page (median of 3): performance / accessibility / best practices",
        read: Read::Last,
        bound: Bound::AtLeast(100.0),
    },
    Goal {
        goal: "Lighthouse time to interactive: ≤ 2.0 s",
        figure: "Lighthouse time to interactive (median of 3)",
        read: Read::First,
        bound: Bound::AtMost(2.0),
    },
    Goal {
        goal: "first load to a usable login form, 1.6 Mbps / 150 ms, 4× CPU: ≤ 3 s",
        figure: "first load to a usable login form, 1.6 Mbps / 150 ms, 4× CPU slowdown (median of 3)",
        read: Read::First,
        bound: Bound::AtMost(3.0),
    },
    Goal {
        goal: "first load to a usable login form, slow 3G, 4× CPU: ≤ 8 s",
        figure: "first load to a usable login form, slow 3G, 4× CPU slowdown",
        read: Read::First,
        bound: Bound::AtMost(8.0),
    },
    Goal {
        goal: "warm open from the service worker, 4× CPU: ≤ 0.6 s",
        figure: "warm open from the service worker to the venue list as last drawn (the page's copy), 4× CPU slowdown, timed in the page (median of 3)",
        read: Read::First,
        bound: Bound::AtMost(0.6),
    },
    Goal {
        goal: "the same open to the app's own venue list (shown beside the goal: the copy above is what the officer sees and taps first, the tap kept for the app)",
        figure: "the same open to the app's own venue list (median of 3)",
        read: Read::First,
        bound: Bound::Shown,
    },
    Goal {
        goal: "saving an inspection: ≤ 2 × a bare put of the same value",
        figure: "ratio of the two medians (goal ≤ 2)",
        read: Read::First,
        bound: Bound::AtMost(2.0),
    },
    Goal {
        goal: "记录, 10 000 records: the first page < 50 ms",
        figure: "记录: the newest rows drawn (of 10000), median of 5",
        read: Read::First,
        bound: Bound::Below(50.0),
    },
    Goal {
        goal: "记录, 10 000 records: a search < 50 ms",
        figure: "search narrowing 记录",
        read: Read::First,
        bound: Bound::Below(50.0),
    },
    Goal {
        goal: "场所, 2 000 venues: the first page < 50 ms",
        figure: "场所: the first rows drawn (of 2000 and the demo's), median of 5",
        read: Read::First,
        bound: Bound::Below(50.0),
    },
    Goal {
        goal: "场所, 2 000 venues: a search < 50 ms",
        figure: "search narrowing 场所 to one venue of 2000, typed as the first rows show",
        read: Read::First,
        bound: Bound::Below(50.0),
    },
    Goal {
        goal: "app start with 10 000 records no slower than with the demo's (starts in turns, each phone first in every other pair; ✓: not shown slower, one-sided signed-rank p ≥ 0.05)",
        figure: "app start with 10000 records slower than the demo's, one-sided Wilcoxon signed-rank test",
        read: Read::After("p ="),
        bound: Bound::AtLeast(0.05),
    },
    Goal {
        goal: "the same starts: the 10 000 records' median over the demo's (shown)",
        figure: "app start with 10000 records over the start with the demo's, medians",
        read: Read::First,
        bound: Bound::Shown,
    },
    Goal {
        goal: "memory flat over 30 visits of 记录 (wasm memory in KiB, last over first ≤ 1)",
        figure: "memory over 30 visits of 记录 (10000 records)",
        read: Read::Growth("wasm"),
        bound: Bound::AtMost(1.0),
    },
    Goal {
        goal: "the JS heap over the same visits, after a forced collection (last over first, shown)",
        figure: "memory over 30 visits of 记录 (10000 records)",
        read: Read::Growth("JS heap"),
        bound: Bound::Shown,
    },
    Goal {
        goal: "sync of 1 000 records from one phone: < 3 s",
        figure: "sync of 1000 complete records from one phone, loopback, to \"synced\"",
        read: Read::First,
        bound: Bound::Below(3.0),
    },
    Goal {
        goal: "server: ≥ 2 000 mutations/s",
        figure: "server: 1000 complete inspections pushed in batches of 50",
        read: Read::First,
        bound: Bound::AtLeast(2000.0),
    },
    Goal {
        goal: "server: ≥ 0.3 × bare SQLite in the same run",
        figure: "server: 1000 complete inspections pushed in batches of 50",
        read: Read::Before("× bare"),
        bound: Bound::AtLeast(0.3),
    },
    Goal {
        goal: "server: 200 phones pushing at once, p99 < 200 ms",
        figure: "server: 200 phones pushing 5 inspections each at once",
        read: Read::After("p99"),
        bound: Bound::Below(200.0),
    },
    Goal {
        goal: "server: 200 phones pushing at once, 0 errors",
        figure: "server: 200 phones pushing 5 inspections each at once",
        read: Read::Before("errors"),
        bound: Bound::AtMost(0.0),
    },
];

/// The figure's name, exactly as printed, for the file's generated section: `cargo xtask bench`
/// measures the shell itself.
pub const SHELL_FIGURE: &str =
    "shell downloaded before the first screen (main wasm, glue, loader, css), gzip -9";

/// The value of figure `name` in a figure line (without its `FIGURE ` mark): names and values may
/// both carry colons, so the name is matched whole.
fn value_of<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.strip_prefix(name)?.strip_prefix(": ")
}

/// The numbers in `text`, as written (`2 247` is two numbers; the benches print none that way).
fn numbers(text: &str) -> Vec<f64> {
    let mut found = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == '.' && !current.is_empty()) {
            current.push(c);
        } else if !current.is_empty() {
            if let Ok(number) = current.trim_end_matches('.').parse() {
                found.push(number);
            }
            current.clear();
        }
    }
    found
}

/// The number a goal is about in a figure's value.
fn read(value: &str, read: Read) -> Option<f64> {
    match read {
        Read::First => numbers(value).first().copied(),
        Read::After(mark) => value
            .split_once(mark)
            .and_then(|(_, rest)| numbers(rest).first().copied()),
        Read::Before(mark) => numbers(value.split_once(mark)?.0).last().copied(),
        Read::Last => {
            let before = value.split_once('(').map_or(value, |(head, _)| head);
            numbers(before).last().copied()
        }
        Read::Growth(mark) => {
            let seen: Vec<f64> = value
                .split(mark)
                .skip(1)
                .filter_map(|part| numbers(part).first().copied())
                .collect();
            match (seen.first(), seen.last()) {
                (Some(first), Some(last)) if *first > 0.0 && seen.len() > 1 => Some(last / first),
                _ => None,
            }
        }
    }
}

/// ✓ or ✗ for a goal, — for a figure shown beside one.
fn mark(number: f64, bound: Bound) -> &'static str {
    let met = match bound {
        Bound::AtMost(limit) => number <= limit,
        Bound::Below(limit) => number < limit,
        Bound::AtLeast(limit) => number >= limit,
        Bound::Shown => return "—",
    };
    if met { "✓" } else { "✗" }
}

/// Runs a bench with its output shown as it comes, adding the figure lines it prints (without their
/// `FIGURE ` mark) to `figures`: those of a bench that then fails are kept too.
pub fn run_collecting(command: &mut Command, figures: &mut Vec<String>) -> Result<()> {
    let shown = format!("{command:?}");
    println!("$ {shown}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {shown}"))?;
    let stdout = child.stdout.take().context("the bench's output")?;
    for line in BufReader::new(stdout).lines() {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error).context("reading the bench's output");
            }
        };
        println!("{line}");
        if let Some(figure) = line.trim_start().strip_prefix("FIGURE ") {
            figures.push(figure.trim_end().to_owned());
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The machine the figures came from, in one line.
fn machine() -> String {
    let first_line = |path: &str, key: &str| {
        std::fs::read_to_string(path).ok().and_then(|text| {
            text.lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
        })
    };
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let memory = first_line("/proc/meminfo", "MemTotal")
        .and_then(|kb| numbers(&kb).first().copied())
        .map_or_else(
            || "? GiB".to_owned(),
            |kb| format!("{:.0} GiB", kb / 1_048_576.0),
        );
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "unknown OS".to_owned());
    format!(
        "{} · {cores} cores · {memory} · {os} · {} · {}",
        first_line("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".to_owned()),
        output("/usr/bin/chromium", &["--version"]).unwrap_or_else(|| "no Chromium".to_owned()),
        output("rustc", &["--version"]).unwrap_or_else(|| "rustc ?".to_owned()),
    )
}

/// The generated section: goals and figures of this run, and what failed in it.
fn section(figures: &[String], failed: Option<&str>) -> String {
    let now = |format: &str| {
        Command::new("date")
            .args(["-u", format])
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut text = String::new();
    let _ = writeln!(text, "{BEGIN}");
    let _ = writeln!(
        text,
        "## Every goal, from the last `cargo xtask bench` ({}, `{commit}`)\n",
        now("+%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(text, "Machine: {}.\n", machine());
    let _ = writeln!(
        text,
        "Made by `cargo xtask bench` (release app, the real server, Debian's Chromium at 360 × 740; \
         run it again to replace this section). Many phones on PostgreSQL + S3: `cargo xtask bench --load`. \
         One run's figures: this machine's speed moves between hours, and the entries below say by how much.\n"
    );
    if let Some(failed) = failed {
        let _ = writeln!(
            text,
            "**This run did not finish:** {failed}. The goals it did not reach say so.\n"
        );
    }
    let _ = writeln!(text, "| goal | figure (this run) | met |\n|---|---|---|");
    for goal in GOALS {
        let found = figures.iter().find_map(|line| value_of(line, goal.figure));
        let (shown, met) = match found {
            None => ("not printed by this run".to_owned(), "?"),
            Some(value) => match read(value, goal.read) {
                None => (format!("{value} (no number found)"), "?"),
                Some(number) => (value.to_owned(), mark(number, goal.bound)),
            },
        };
        let _ = writeln!(
            text,
            "| {} | {} | {met} |",
            goal.goal,
            shown.replace('|', "\\|")
        );
    }
    let _ = writeln!(text, "\nEvery figure of the run, as printed:\n");
    for line in figures {
        let _ = writeln!(text, "- {line}");
    }
    let _ = writeln!(text, "{END}");
    text
}

/// Replaces the generated section of `path` with this run's, or puts it before the first entry if
/// the file has none. Markers that are not exactly one BEGIN before one END are refused: guessing
/// where the section ends could write over the entries below it.
pub fn write(path: &Path, figures: &[String], failed: Option<&str>) -> Result<()> {
    let old =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let generated = section(figures, failed);
    let new = match (old.matches(BEGIN).count(), old.matches(END).count()) {
        (1, 1) => match (old.find(BEGIN), old.find(END)) {
            (Some(begin), Some(end)) if begin < end => {
                let rest = old[end + END.len()..].trim_start_matches('\n');
                format!("{}{generated}\n{rest}", &old[..begin])
            }
            _ => bail!(
                "{}: its generated section ends before it begins",
                path.display()
            ),
        },
        (0, 0) => match old.find("\n## ") {
            Some(first) => format!("{}\n{generated}\n{}", &old[..first], &old[first + 1..]),
            None => format!("{old}\n{generated}"),
        },
        (begins, ends) => bail!(
            "{}: {begins} begin and {ends} end markers of the generated section; mend them by hand \
             (one `{BEGIN}` before one `{END}`, or neither)",
            path.display()
        ),
    };
    // Written beside it and renamed over it: a run stopped half-way leaves the old file whole.
    let fresh = path.with_extension("md.new");
    std::fs::write(&fresh, new).with_context(|| format!("writing {}", fresh.display()))?;
    std::fs::rename(&fresh, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(goal: &Goal, line: &str) -> Option<f64> {
        let value =
            value_of(line, goal.figure).unwrap_or_else(|| panic!("{line} is not {}", goal.figure));
        read(value, goal.read)
    }

    fn goal(text: &str) -> &'static Goal {
        GOALS
            .iter()
            .find(|goal| goal.goal.starts_with(text))
            .expect("a goal")
    }

    #[test]
    fn each_goal_reads_its_number_from_the_line_the_bench_prints() {
        let lighthouse = "Lighthouse 12.8 mobile, login page (median of 3): performance / accessibility / best practices: 98 / 100 / 96";
        let push = "server: 1000 complete inspections pushed in batches of 50: 2247 mutations/s (0.45 s; 0.61 × bare SQLite)";
        let burst = "server: 200 phones pushing 5 inspections each at once: p50 274 ms, p99 602 ms, max 883 ms, 3 errors (the median of 3 bursts; their p99 702, 602, 411 ms)";
        let rows =
            "记录: the newest rows drawn (of 10000), median of 5: 24 ms (22, 23, 24, 30, 31)";
        let save = "ratio of the two medians (goal ≤ 2): 3.11";
        let start = "app start with 10000 records slower than the demo's, one-sided Wilcoxon signed-rank test: p = 0.0312 (1022 of 32768 signings of 15 pairs)";
        for (which, line, expected) in [
            ("Lighthouse 12.8 mobile performance", lighthouse, 98.0),
            ("Lighthouse accessibility", lighthouse, 100.0),
            ("Lighthouse best practices", lighthouse, 96.0),
            ("server: ≥ 2 000", push, 2247.0),
            ("server: ≥ 0.3", push, 0.61),
            ("server: 200 phones pushing at once, p99", burst, 602.0),
            ("server: 200 phones pushing at once, 0", burst, 3.0),
            ("记录, 10 000 records: the first", rows, 24.0),
            ("saving an inspection", save, 3.11),
            ("app start with 10 000 records no slower", start, 0.0312),
        ] {
            assert_eq!(number(goal(which), line), Some(expected), "{which}");
        }
        let memory = "memory over 30 visits of 记录 (10000 records): after 1: wasm 33792 KiB, JS heap 4000 KiB; after 30: wasm 34816 KiB, JS heap 3000 KiB";
        let growth = number(goal("memory flat"), memory).expect("a growth");
        assert!((growth - 34816.0 / 33792.0).abs() < 1e-9);
        let heap = number(goal("the JS heap"), memory).expect("a growth");
        assert!((heap - 0.75).abs() < 1e-9);
    }

    #[test]
    fn the_section_marks_each_goal_met_missed_or_not_measured() {
        let figures = vec![
            "ratio of the two medians (goal ≤ 2): 3.11".to_owned(),
            "sync of 1000 complete records from one phone, loopback, to \"synced\": 2.66 s"
                .to_owned(),
        ];
        let text = section(
            &figures,
            Some("`npx playwright test` failed (exit status: 1)"),
        );
        assert!(
            text.contains("**This run did not finish:** `npx playwright test` failed"),
            "{text}"
        );
        assert!(
            text.contains(
                "| saving an inspection: ≤ 2 × a bare put of the same value | 3.11 | ✗ |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| sync of 1 000 records from one phone: < 3 s | 2.66 s | ✓ |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| Lighthouse time to interactive: ≤ 2.0 s | not printed by this run | ? |"
            ),
            "{text}"
        );
    }

    /// A scratch BENCHMARKS.md holding `text`, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str, text: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("xtask-report-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("the scratch folder");
            let path = dir.join("BENCHMARKS.md");
            std::fs::write(&path, text).expect("the scratch file");
            Scratch(path)
        }

        fn text(&self) -> String {
            std::fs::read_to_string(&self.0).expect("the scratch file")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    const ENTRIES: &str = "# Benchmarks\n\nIntro.\n\n## An entry\n\nKept.\n";

    #[test]
    fn writing_again_replaces_the_section_and_keeps_the_entries() {
        let file = Scratch::new("again", ENTRIES);
        let ratio = |value: &str| vec![format!("ratio of the two medians (goal ≤ 2): {value}")];
        write(&file.0, &ratio("3.11"), None).expect("written");
        let first = file.text();
        write(&file.0, &ratio("1.90"), None).expect("written again");
        let text = file.text();
        assert_eq!(text.matches(BEGIN).count(), 1, "{text}");
        assert!(
            text.contains("| 1.90 | ✓ |") && !text.contains("3.11"),
            "{text}"
        );
        assert!(text.starts_with("# Benchmarks\n\nIntro.\n\n<!--"), "{text}");
        assert!(
            text.ends_with(&format!("{END}\n\n## An entry\n\nKept.\n")),
            "{text}"
        );
        // The same run written twice gives the same file: nothing drifts from run to run.
        write(&file.0, &ratio("3.11"), None).expect("written a third time");
        assert_eq!(
            file.text().replace(|c: char| c.is_ascii_digit(), ""),
            first.replace(|c: char| c.is_ascii_digit(), "")
        );
    }

    #[test]
    fn markers_out_of_order_or_alone_are_refused_and_the_file_kept() {
        for (name, text) in [
            (
                "end-first",
                format!("# B\n\n{END}\n\n{BEGIN}\n\n## An entry\n"),
            ),
            ("begin-alone", format!("# B\n\n{BEGIN}\n\n## An entry\n")),
            ("end-alone", format!("# B\n\n## An entry\n\n{END}\n")),
            (
                "twice",
                format!("{BEGIN}\n{END}\n{BEGIN}\n{END}\n## An entry\n"),
            ),
        ] {
            let file = Scratch::new(name, &text);
            let refused = write(&file.0, &[], None);
            assert!(refused.is_err(), "{name}: written over {text}");
            assert_eq!(file.text(), text, "{name}");
        }
    }

    /// Every goal's figure is still printed by a bench: the name's text between its numbers and
    /// commas (the benches write numbers from constants, and a part such as `loopback` from a
    /// variable) is in a bench's source. A figure renamed in a bench
    /// would otherwise turn its goal into "not printed" without a word.
    #[test]
    fn each_goal_names_a_figure_a_bench_prints() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let sources: String = [
            "tests/e2e/shell.bench.ts",
            "tests/e2e/save.bench.ts",
            "tests/e2e/records.bench.ts",
            "tests/e2e/sync.bench.ts",
            "crates/fieldcheck-server/benches/push.rs",
        ]
        .iter()
        .map(|file| std::fs::read_to_string(root.join(file)).expect("a bench's source"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\'", "'");
        for goal in GOALS.iter().filter(|goal| goal.figure != SHELL_FIGURE) {
            for words in goal
                .figure
                .split(|c: char| c.is_ascii_digit() || c == ',')
                .filter(|words| words.chars().count() > 2)
            {
                assert!(
                    sources.contains(words),
                    "no bench prints \"{words}\" of the figure of the goal \"{}\"",
                    goal.goal
                );
            }
        }
    }
}
