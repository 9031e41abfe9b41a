//! A visible signature's appearance: a framed box with lines of text (the
//! signer's name, the time), drawn as the glyphs' outlines from a TrueType font
//! the caller gives. Outlines need no font in the PDF, so any script the font
//! covers (Vietnamese with its diacritics) shows the same in every reader.

use ttf_parser::{Face, GlyphId, OutlineBuilder};

use crate::error::PdfError;

/// What a visible signature shows, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Appearance<'a> {
    /// The page (1 for the first).
    pub page: u32,
    /// The box: x, y (from the page's lower left corner), width and height,
    /// in points.
    pub rect: [f64; 4],
    /// The lines of text, top to bottom.
    pub lines: Vec<String>,
    /// A TrueType or OpenType font (the file's bytes) with the glyphs of the text.
    pub font: &'a [u8],
}

/// Margin inside the frame, points.
const MARGIN: f64 = 4.0;
/// Line height, in font sizes.
const LEADING: f64 = 1.25;

/// Writes glyph outlines as PDF path operators, scaled and moved.
struct Path<'o> {
    out: &'o mut String,
    scale: f64,
    dx: f64,
    dy: f64,
    /// The current point, for turning quadratic curves into cubic ones.
    at: (f64, f64),
}

impl Path<'_> {
    fn point(&self, x: f32, y: f32) -> (f64, f64) {
        (
            self.dx + f64::from(x) * self.scale,
            self.dy + f64::from(y) * self.scale,
        )
    }
}

impl OutlineBuilder for Path<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let p = self.point(x, y);
        self.out.push_str(&format!("{:.2} {:.2} m\n", p.0, p.1));
        self.at = p;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.point(x, y);
        self.out.push_str(&format!("{:.2} {:.2} l\n", p.0, p.1));
        self.at = p;
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        // The cubic curve through the same points: controls two thirds of the
        // way from each end to the quadratic control point.
        let (c, p) = (self.point(x1, y1), self.point(x, y));
        let a = self.at;
        let c1 = (a.0 + 2.0 / 3.0 * (c.0 - a.0), a.1 + 2.0 / 3.0 * (c.1 - a.1));
        let c2 = (p.0 + 2.0 / 3.0 * (c.0 - p.0), p.1 + 2.0 / 3.0 * (c.1 - p.1));
        self.out.push_str(&format!(
            "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c\n",
            c1.0, c1.1, c2.0, c2.1, p.0, p.1
        ));
        self.at = p;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (c1, c2, p) = (self.point(x1, y1), self.point(x2, y2), self.point(x, y));
        self.out.push_str(&format!(
            "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c\n",
            c1.0, c1.1, c2.0, c2.1, p.0, p.1
        ));
        self.at = p;
    }

    fn close(&mut self) {
        self.out.push_str("h\n");
    }
}

/// The glyphs of `text` and the width of the line, in font units.
fn shape(face: &Face<'_>, text: &str) -> (Vec<(GlyphId, f64)>, f64) {
    let mut glyphs = Vec::new();
    let mut x = 0.0;
    for c in text.chars() {
        let glyph = face.glyph_index(c).unwrap_or(GlyphId(0));
        glyphs.push((glyph, x));
        x += f64::from(face.glyph_hor_advance(glyph).unwrap_or(0));
    }
    (glyphs, x)
}

/// The appearance stream's content: a light box, its frame, and the lines
/// drawn as large as the box allows (at most 10 points).
pub(super) fn content(appearance: &Appearance<'_>) -> Result<Vec<u8>, PdfError> {
    let bad = |detail: String| PdfError::Appearance { detail };
    let [_, _, width, height] = appearance.rect;
    if !(width.is_finite() && height.is_finite() && width >= 20.0 && height >= 10.0) {
        return Err(bad(format!(
            "the box {width} x {height} is too small: give at least 20 x 10 points"
        )));
    }
    let face = Face::parse(appearance.font, 0)
        .map_err(|e| bad(format!("the font cannot be read: {e}")))?;
    let units = f64::from(face.units_per_em().max(1));
    let shaped: Vec<(Vec<(GlyphId, f64)>, f64)> = appearance
        .lines
        .iter()
        .map(|line| shape(&face, line))
        .collect();
    let widest = shaped.iter().map(|(_, w)| *w).fold(0.0, f64::max) / units;
    let lines = shaped.len().max(1) as f64;
    let inner = (width - 2.0 * MARGIN, height - 2.0 * MARGIN);
    let mut size = (inner.1 / (lines * LEADING)).min(10.0);
    if widest > 0.0 {
        size = size.min(inner.0 / widest);
    }
    let mut out = String::new();
    out.push_str(&format!(
        "q\n0.94 0.96 1 rg\n0 0 {width:.2} {height:.2} re f\n0.1 0.25 0.55 RG 1 w\n0.5 0.5 {:.2} {:.2} re S\n0.05 0.1 0.3 rg\n",
        width - 1.0,
        height - 1.0
    ));
    let ascent = f64::from(face.ascender()) / units * size;
    for (i, (glyphs, _)) in shaped.iter().enumerate() {
        let baseline = height - MARGIN - ascent - i as f64 * size * LEADING;
        for (glyph, x) in glyphs {
            let mut path = Path {
                out: &mut out,
                scale: size / units,
                dx: MARGIN + x * size / units,
                dy: baseline,
                at: (0.0, 0.0),
            };
            if face.outline_glyph(*glyph, &mut path).is_some() {
                out.push_str("f\n");
            }
        }
    }
    out.push_str("Q\n");
    Ok(out.into_bytes())
}
