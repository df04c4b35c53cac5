//! The size budget: the whole dist, as a CDN serves it (brotli), may not grow past the bytes
//! recorded in `xtask/size-budget`. `cargo xtask test` checks it after the release build.
//! Raising the budget is a deliberate change, with its reason in docs/SIZE.md ("Budget").

use std::path::Path;

use crate::dist::Sizes;

/// Where the budget is recorded, from the workspace root.
pub const FILE: &str = "xtask/size-budget";

/// The budget in bytes: the first line that is not blank or a `#` comment.
pub fn parse(text: &str) -> Result<u64, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| format!("{FILE} records no budget"))?;
    line.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{FILE}: `{line}` is not a number of bytes"))
}

/// The verdict on a dist of `total` brotli bytes against `budget`, in words.
pub fn verdict(total: u64, budget: u64) -> Result<String, String> {
    let line = format!("the dist is {total} B brotli; the budget is {budget} B ({FILE})");
    if total <= budget {
        Ok(format!("{line}: {} B to spare", budget - total))
    } else {
        Err(format!(
            "{line}: {} B over. Make it smaller, or raise the budget with the reason in docs/SIZE.md",
            total - budget
        ))
    }
}

/// Checks the built dist's sizes against the budget in `root`, printing the verdict.
pub fn check(root: &Path, sizes: &[Sizes]) -> bool {
    let total: u64 = sizes.iter().map(|s| s.brotli as u64).sum();
    let result = std::fs::read_to_string(root.join(FILE))
        .map_err(|e| format!("reading {FILE}: {e}"))
        .and_then(|text| parse(&text))
        .and_then(|budget| verdict(total, budget));
    match result {
        Ok(line) => {
            eprintln!("size budget: {line}");
            true
        }
        Err(line) => {
            eprintln!("size budget: {line}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_the_first_number_and_a_dist_over_it_fails() {
        assert_eq!(parse("# why\n\n297_000\n"), Ok(297_000));
        assert!(parse("# nothing\n").is_err());
        assert!(parse("about 300 KB").is_err());
        assert!(verdict(296_812, 297_000).is_ok_and(|l| l.ends_with("188 B to spare")));
        let over = verdict(297_001, 297_000).unwrap_err();
        assert!(over.contains("1 B over"), "{over}");
    }
}
