//! The HTML reference of each layer: one self-contained page built from the published
//! OpenAPI 3.0.3 document by Redocly's `build-docs`, with Redoc's scripts inlined
//! (`--inlineBundle`) so that opening it fetches nothing: no CDN, no web fonts.
//!
//! One thing Redoc still fetches at run time is the Redocly logo beside "API docs by" in the
//! sidebar, from Redocly's CDN. The built page points that image at an empty `data:` URL
//! instead; Redoc then leaves the image out (its `onError`) and the words stay.
//!
//! Example ids beyond 2^53 show digit for digit, not rounded as JavaScript numbers are:
//! see [`exact_integers`].

mod exact_integers;

use std::path::{Path, PathBuf};

use crate::layers::Layer;
use crate::tools::Tools;

/// Where `cargo xtask docs` puts the pages, relative to the project root (not in git).
pub const DEFAULT_OUT: &str = "target-artifacts/docs";

/// The page of a layer in `out`.
pub fn page_path(out: &Path, layer: &Layer) -> PathBuf {
    out.join(format!("laserdata-{}.html", layer.name))
}

/// Builds the page of `layer` into `out` and checks that it loads nothing from elsewhere.
pub fn build(root: &Path, tools: &Tools, layer: &Layer, out: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out).map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    let page = page_path(out, layer);
    let document = std::fs::read_to_string(root.join(layer.bundle))
        .map_err(|error| format!("cannot read {}: {error}", layer.bundle))?;
    let (marked, _) = exact_integers::mark(&document).map_err(|error| format!("{}: {error}", layer.bundle))?;
    // Redocly reads the document with its example integers marked, from beside the page.
    let input = out.join(format!(".laserdata-{}.marked.json", layer.name));
    std::fs::write(&input, marked).map_err(|error| format!("cannot write {}: {error}", input.display()))?;
    // Its notices (Node versions, Redoc 3) are shown only when the build fails.
    let output = tools
        .node("redocly")
        .arg("build-docs")
        .arg(&input)
        .arg("--inlineBundle")
        .arg("--output")
        .arg(&page)
        .current_dir(root)
        .output();
    let _ = std::fs::remove_file(&input);
    let output = output.map_err(|error| format!("cannot start redocly: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "redocly build-docs {} failed ({}):\n{}{}",
            layer.bundle,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let html = std::fs::read_to_string(&page).map_err(|error| format!("cannot read {}: {error}", page.display()))?;
    let html =
        exact_integers::restore(&without_remote_logo(&html)).map_err(|error| format!("{}: {error}", page.display()))?;
    std::fs::write(&page, &html).map_err(|error| format!("cannot write {}: {error}", page.display()))?;
    let external = external_resources(&html);
    if !external.is_empty() {
        return Err(format!("{} would fetch {}", page.display(), external.join(", ")));
    }
    Ok(page)
}

/// The logos Redoc's sidebar loads from Redocly's CDN.
const REMOTE_LOGOS: [&str; 2] =
    ["https://cdn.redoc.ly/redoc/logo-mini-full.svg", "https://cdn.redoc.ly/redoc/logo-mini.svg"];

/// The page with Redoc's remote logo replaced by an empty `data:` URL.
pub fn without_remote_logo(html: &str) -> String {
    REMOTE_LOGOS.iter().fold(html.to_owned(), |html, logo| html.replace(logo, "data:,"))
}

/// The `http(s)` resources a page would load when opened: scripts, style sheets, images,
/// frames, fonts and module imports. Plain links (`<a href>`) are not loads and do not count.
pub fn external_resources(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = html.to_ascii_lowercase();
    // Attribute loads anywhere, and `href` inside <link> tags.
    for marker in ["src=", "srcset=", "poster=", "data="] {
        found.extend(urls_after(&lower, html, marker, false));
    }
    let mut start = 0;
    while let Some(offset) = lower[start..].find("<link") {
        let tag_start = start + offset;
        let tag_end = lower[tag_start..].find('>').map_or(lower.len(), |end| tag_start + end);
        found.extend(urls_after(&lower[tag_start..tag_end], &html[tag_start..tag_end], "href=", false));
        start = tag_end;
    }
    // CSS and JavaScript loads; the JavaScript forms only with a quoted URL, as code has them.
    found.extend(urls_after(&lower, html, "url(", false));
    for marker in ["@import", "import(", "from"] {
        found.extend(urls_after(&lower, html, marker, true));
    }
    found.sort();
    found.dedup();
    found
}

/// The http(s) URLs that directly follow `marker` (after optional spaces and a quote, which
/// must be there when `quoted`).
fn urls_after(lower: &str, original: &str, marker: &str, quoted: bool) -> Vec<String> {
    let mut urls = Vec::new();
    for (index, _) in lower.match_indices(marker) {
        let rest = &lower[index + marker.len()..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\n']);
        let trimmed = match trimmed.strip_prefix(['"', '\'', '`']) {
            Some(unquoted) => unquoted,
            None if quoted => continue,
            None => trimmed,
        };
        if trimmed.starts_with("http://") || trimmed.starts_with("https://") || trimmed.starts_with("//") {
            let begin = lower.len() - trimmed.len();
            let end = original[begin..]
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ')' | '>'))
                .map_or(original.len(), |end| begin + end);
            urls.push(original[begin..end].to_owned());
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::external_resources;

    #[test]
    fn loads_count_and_links_do_not() {
        let html = r#"<html><head>
            <link rel="modulepreload" href="https://cdn.example/redoc.js" />
            <link rel="icon" href="data:,">
            <script src='https://cdn.example/a.js'></script>
            <style>@font-face { src: url(https://fonts.example/f.woff2) } @import "https://x.example/s.css";</style>
            <script type="module">import { hydrate } from "https://cdn.example/b.js";</script>
            </head><body><a href="https://github.com/x">a link</a><img src="data:image/png;base64,AAA"></body></html>"#;
        assert_eq!(
            external_resources(html),
            [
                "https://cdn.example/a.js",
                "https://cdn.example/b.js",
                "https://cdn.example/redoc.js",
                "https://fonts.example/f.woff2",
                "https://x.example/s.css"
            ]
        );
        assert!(external_resources("<a href=\"https://example.com\">x</a> text from https://example.com").is_empty());
    }
}
