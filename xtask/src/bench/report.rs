//! The results table, the machine it was measured on, and `BENCHMARKS.md`.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// One line of the table; the bench binaries print these as JSON.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Row {
    /// The item of the plan: 1 codegen, 2 client overhead, 3 paging memory, 4 decoding, 5 build.
    pub section: u8,
    pub benchmark: String,
    pub measure: String,
    pub result: String,
    pub detail: String,
    pub target: String,
    /// `None` for figures that are reported, not judged.
    pub met: Option<bool>,
}

/// The header of the table (a line that starts with it is a table line).
const TABLE_HEAD: &str = "| # | Benchmark | Result | Target | Met | How measured | Details |";

/// The part of `BENCHMARKS.md` that `cargo xtask bench` rewrites; everything outside the markers
/// is written by hand and kept.
pub const BEGIN: &str = "<!-- cargo xtask bench: begin (generated; edit outside these markers) -->";
pub const END: &str = "<!-- cargo xtask bench: end -->";

/// The Markdown table of `rows`.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!("{TABLE_HEAD}\n|---|---|---|---|---|---|---|\n");
    for row in rows {
        out.push_str(&table_line(row));
        out.push('\n');
    }
    out
}

fn table_line(row: &Row) -> String {
    let met = match row.met {
        Some(true) => "yes",
        // Why not is measured and written up by hand, under "Findings".
        Some(false) => "**no**: why in [Findings](#findings)",
        None => "—",
    };
    let cells = [&row.section.to_string(), &row.benchmark, &row.result, &row.target, met, &row.measure, &row.detail]
        .map(|cell| cell.replace('|', "\\|").replace('\n', " "));
    format!("| {} |", cells.join(" | "))
}

/// The rows of the given sections in a previous table, as they were written, for a run that
/// skipped them.
pub fn previous_lines(markdown: &str, sections: &[u8]) -> Vec<String> {
    markdown
        .lines()
        .filter(|line| line_section(line).is_some_and(|n| sections.contains(&n)))
        .map(str::to_owned)
        .collect()
}

/// The section of a table line (`| 5 | ...`).
fn line_section(line: &str) -> Option<u8> {
    line.strip_prefix("| ")?.split_once(" |")?.0.parse().ok()
}

/// The generated block: when and where it ran, and the table. `kept` are the rows of the
/// `skipped` sections from the previous table.
pub fn block(machine: &Machine, rows: &[Row], skipped: &[u8], kept: &[String]) -> String {
    let mut lines: Vec<String> = rows.iter().map(table_line).chain(kept.iter().cloned()).collect();
    lines.sort_by_key(|line| line_section(line));
    let mut table = format!("{TABLE_HEAD}\n|---|---|---|---|---|---|---|\n");
    for line in lines {
        table.push_str(&line);
        table.push('\n');
    }
    let sections: Vec<String> = skipped.iter().map(u8::to_string).collect();
    let provenance = match (skipped, kept) {
        ([], _) => "Every row is from this run.".to_owned(),
        (_, []) => format!(
            "Section(s) {} were skipped in this run, and no earlier run has rows for them.",
            sections.join(", ")
        ),
        _ => format!(
            "Section(s) {} were skipped in this run; their rows are from an earlier run (the build rows name theirs).",
            sections.join(", ")
        ),
    };
    format!(
        "{BEGIN}\n\n\
         Run of {date}, commit `{commit}`, on {cores} cores ({cpu}), {memory} memory, {os}; `{rustc}`; load average {load} when it started.\n\
         {provenance}\n\n{table}\n{END}\n",
        date = machine.date,
        commit = machine.commit,
        cores = machine.cores,
        cpu = machine.cpu,
        memory = machine.memory,
        os = machine.os,
        rustc = machine.rustc,
        load = machine.load,
    )
}

/// `existing` (a previous `BENCHMARKS.md`, if any) with its generated block replaced by
/// `block`; the text around it is kept. A new file gets `template` around the block.
pub fn merge(existing: Option<&str>, block: &str, template: &str) -> String {
    if let Some(text) = existing
        && let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END))
        && begin < end
    {
        let after = &text[end + END.len()..];
        return format!("{}{}{}", &text[..begin], block, after.strip_prefix('\n').unwrap_or(after));
    }
    template.replace("{{block}}", block.trim_end())
}

/// What the numbers were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    pub date: String,
    pub commit: String,
    pub cores: usize,
    pub cpu: String,
    pub memory: String,
    pub os: String,
    pub rustc: String,
    /// The one-minute load average, where the system tells it.
    pub load: String,
}

impl Machine {
    pub fn describe(root: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map(|(_, name)| name.trim().to_owned())
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1048576.0))
            .unwrap_or_else(|| "unknown".into());
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|release| format!("Linux {}", release.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.into());
        let rustc = output(Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("-V"));
        let mut commit = output(Command::new("git").arg("-C").arg(root).args(["rev-parse", "--short", "HEAD"]));
        let changes = output(Command::new("git").arg("-C").arg(root).args([
            "status",
            "--porcelain",
            "--",
            ".",
            ":!BENCHMARKS.md",
        ]));
        if !changes.is_empty() {
            commit.push_str(" with uncommitted changes");
        }
        Machine {
            date: utc_now(),
            commit,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            memory,
            os,
            rustc,
            load: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|text| text.split_whitespace().next().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

fn output(command: &mut Command) -> String {
    command
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The current time as `2026-05-01 14:03 UTC`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_date(seconds / 86_400);
    let minutes = seconds % 86_400 / 60;
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", minutes / 60, minutes % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(section: u8, met: Option<bool>) -> Row {
        Row {
            section,
            benchmark: format!("bench {section}"),
            measure: "median".into(),
            result: "1.00".into(),
            detail: "a | b".into(),
            target: "≤ 1.05".into(),
            met,
        }
    }

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_635), (2026, 7, 1));
    }

    #[test]
    fn table_lines_escape_pipes_and_mark_misses() {
        let table = table(&[row(2, Some(true)), row(3, Some(false)), row(5, None)]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], TABLE_HEAD);
        assert_eq!(lines[2], "| 2 | bench 2 | 1.00 | ≤ 1.05 | yes | median | a \\| b |");
        assert!(lines[3].contains("| **no**: why in [Findings](#findings) |"));
        assert!(lines[4].contains("| — |"));
        assert_eq!(previous_lines(&table, &[5]), vec![lines[4].to_owned()]);
        assert_eq!(previous_lines(&table, &[2, 3]), vec![lines[2].to_owned(), lines[3].to_owned()]);
    }

    #[test]
    fn the_generated_block_is_replaced_and_the_rest_kept() {
        let template = "# Benchmarks\n\n{{block}}\n\n## Notes\n";
        let first = merge(None, &format!("{BEGIN}\nold\n{END}\n"), template);
        assert_eq!(first, format!("# Benchmarks\n\n{BEGIN}\nold\n{END}\n\n## Notes\n"));
        let edited = first.replace("## Notes\n", "## Notes\n\nWritten by hand.\n");
        let second = merge(Some(&edited), &format!("{BEGIN}\nnew\n{END}\n"), template);
        assert_eq!(second, format!("# Benchmarks\n\n{BEGIN}\nnew\n{END}\n\n## Notes\n\nWritten by hand.\n"));
    }
}
