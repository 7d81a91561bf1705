//! `report.html`: one self-contained page per results folder (inline SVG charts drawn by
//! `plotters`, inline style, no script, no request), written at the end of every run and merge,
//! and by `stress-tui report DIR` for any finished folder. The page is drawn from the folder's
//! files ([`folder`]), so a run, a merged run and an old folder look the same.

pub mod chart;
pub mod figures;
pub mod folder;
pub mod page;

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The page's file name in a results folder.
pub const FILE_NAME: &str = "report.html";

/// Draws `dir`'s page and writes it as `dir/report.html`.
pub fn write_report(dir: &Path) -> anyhow::Result<PathBuf> {
    let folder = folder::RunFolder::read(dir)?;
    let figures = figures::figures(&folder)?;
    let html = page::render(&folder, &figures);
    let path = dir.join(FILE_NAME);
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
