//! Drawing on A4 pages in millimetres measured from the top-left corner (as a designer measures a
//! form; PDF counts points from the bottom-left), and tables that flow over pages with their
//! header repeated and "page n of m" in the footer.

use printpdf::{
    Color, FontId, PaintMode, Greyscale, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem,
};

use crate::error::Result;
use crate::font;

pub const PAGE_W: f32 = 210.0;
pub const PAGE_H: f32 = 297.0;
pub const MARGIN_L: f32 = 20.0;
pub const MARGIN_R: f32 = 15.0;
pub const CONTENT_W: f32 = PAGE_W - MARGIN_L - MARGIN_R;
/// Baseline of the footer line.
const FOOTER_Y: f32 = 287.0;
/// Lowest baseline a table row may use, leaving room for the footer.
pub const CONTENT_BOTTOM: f32 = 278.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One page being drawn.
pub struct Page<'f> {
    ops: Vec<Op>,
    font_id: FontId,
    font: &'f ParsedFont,
}

fn pt(mm: f32) -> Pt {
    Mm(mm).into_pt()
}

/// A rectangle to fill, top-left at (x, y) mm. The paint mode must be explicit: printpdf ends a
/// rectangle without one with `n` (path ends, nothing painted).
fn filled(x: f32, y: f32, w: f32, h: f32) -> Rect {
    Rect { mode: Some(PaintMode::Fill), ..Rect::from_xywh(pt(x), pt(PAGE_H - y - h), pt(w), pt(h)) }
}

fn black() -> Color {
    Color::Greyscale(Greyscale::new(0.0, None))
}

impl<'f> Page<'f> {
    pub fn new(font_id: FontId, font: &'f ParsedFont) -> Self {
        Page { ops: Vec::with_capacity(512), font_id, font }
    }

    pub fn width(&self, text: &str, size: f32) -> f32 {
        font::width_mm(self.font, text, size)
    }

    /// Text with its baseline at `y` mm from the top.
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let text = font::printable(self.font, text);
        if text.trim().is_empty() {
            return;
        }
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(self.font_id.clone()), size: Pt(size) },
            Op::SetTextCursor { pos: Point { x: pt(x), y: pt(PAGE_H - y) } },
            Op::ShowText { items: vec![TextItem::Text(text)] },
            Op::EndTextSection,
        ]);
    }

    /// Text ending at `x_right`.
    pub fn text_right(&mut self, x_right: f32, y: f32, size: f32, text: &str) {
        let w = self.width(text, size);
        self.text(x_right - w, y, size, text);
    }

    /// Text shortened with "…" so it fits in `max_w` mm (a long name must not print over the
    /// next column and make the slip unreadable).
    pub fn text_fit(&mut self, x: f32, y: f32, size: f32, text: &str, max_w: f32, align: Align) {
        let fitted = self.fit(text, size, max_w);
        match align {
            Align::Left => self.text(x, y, size, &fitted),
            Align::Right => self.text_right(x + max_w, y, size, &fitted),
        }
    }

    pub fn fit(&self, text: &str, size: f32, max_w: f32) -> String {
        if self.width(text, size) <= max_w {
            return text.to_owned();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let candidate: String = chars.iter().collect::<String>() + "…";
            if self.width(&candidate, size) <= max_w {
                return candidate;
            }
        }
        String::new()
    }

    /// A filled rectangle, top-left at (x, y), in grey (0 = black, 1 = white).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        self.ops.push(Op::SetFillColor { col: Color::Greyscale(Greyscale::new(grey, None)) });
        self.ops.push(Op::DrawRectangle { rectangle: filled(x, y, w, h) });
        self.ops.push(Op::SetFillColor { col: black() });
    }

    /// Several black rectangles at once (barcode bars), without a colour change per bar.
    pub fn black_rects(&mut self, rects: impl IntoIterator<Item = (f32, f32, f32, f32)>) {
        self.ops.push(Op::SetFillColor { col: black() });
        for (x, y, w, h) in rects {
            self.ops.push(Op::DrawRectangle { rectangle: filled(x, y, w, h) });
        }
    }

    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, thickness_pt: f32) {
        self.ops.push(Op::SetOutlineColor { col: black() });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness_pt) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint { p: Point { x: pt(x1), y: pt(PAGE_H - y1) }, bezier: false },
                    LinePoint { p: Point { x: pt(x2), y: pt(PAGE_H - y2) }, bezier: false },
                ],
                is_closed: false,
            },
        });
    }

    pub fn hline(&mut self, y: f32, thickness_pt: f32) {
        self.line(MARGIN_L, y, PAGE_W - MARGIN_R, y, thickness_pt);
    }

    fn into_pdf_page(self) -> PdfPage {
        PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), self.ops)
    }
}

/// A table column: title, width in mm, alignment.
#[derive(Debug, Clone)]
pub struct Column {
    pub title: String,
    pub width: f32,
    pub align: Align,
}

impl Column {
    pub fn left(title: &str, width: f32) -> Self {
        Column { title: title.to_owned(), width, align: Align::Left }
    }
    pub fn right(title: &str, width: f32) -> Self {
        Column { title: title.to_owned(), width, align: Align::Right }
    }
}

/// A titled table; its rows flow over pages.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// Printed after the last row, bold-ruled (e.g. "Total cards: 1000").
    pub total: Option<Vec<String>>,
}

const ROW_H: f32 = 5.0;
const TEXT_SIZE: f32 = 8.5;
const HEADER_SIZE: f32 = 8.5;
const TITLE_SIZE: f32 = 11.0;

/// What lands at one vertical position of a page.
enum Slot {
    Title(usize),
    Header(usize),
    Row(usize, usize),
    Total(usize),
    Gap,
}

/// A laid-out document: pages of table lines after a first-page area of `first_top` mm and a
/// following-pages area of `next_top` mm, each page decorated by `decorate(page, n, of)`.
pub struct Flow {
    pub first_top: f32,
    pub next_top: f32,
}

impl Flow {
    /// Splits the tables into pages: a page never ends with a title or header alone, and every
    /// page that continues a table starts with its header again.
    fn paginate(&self, tables: &[Table]) -> Vec<Vec<(f32, Slot)>> {
        let mut pages: Vec<Vec<(f32, Slot)>> = vec![Vec::new()];
        let mut y = self.first_top;
        let new_page = |pages: &mut Vec<Vec<(f32, Slot)>>, y: &mut f32| {
            pages.push(Vec::new());
            *y = self.next_top;
        };
        for (t, table) in tables.iter().enumerate() {
            // Title + header + at least one row must fit, else start the table on a new page.
            if y + 3.0 * ROW_H + 2.0 > CONTENT_BOTTOM {
                new_page(&mut pages, &mut y);
            }
            let page = pages.len() - 1;
            pages[page].push((y, Slot::Title(t)));
            y += ROW_H + 1.5;
            pages[page].push((y, Slot::Header(t)));
            y += ROW_H;
            for r in 0..table.rows.len() {
                if y > CONTENT_BOTTOM {
                    new_page(&mut pages, &mut y);
                    let page = pages.len() - 1;
                    pages[page].push((y, Slot::Header(t)));
                    y += ROW_H;
                }
                let page = pages.len() - 1;
                pages[page].push((y, Slot::Row(t, r)));
                y += ROW_H;
            }
            if table.total.is_some() {
                if y > CONTENT_BOTTOM {
                    new_page(&mut pages, &mut y);
                }
                let page = pages.len() - 1;
                pages[page].push((y + 1.0, Slot::Total(t)));
                y += ROW_H + 1.0;
            }
            let page = pages.len() - 1;
            pages[page].push((y, Slot::Gap));
            y += ROW_H;
        }
        pages
    }

    /// Renders the document. `decorate` draws what is not a table (page 1's header block, the
    /// running head of later pages); the footer "page n of m" and `footer_left` are drawn here.
    pub fn render(
        &self,
        title: &str,
        footer_left: &str,
        tables: &[Table],
        mut decorate: impl FnMut(&mut Page<'_>, usize, usize),
    ) -> Result<Vec<u8>> {
        let font = font::parsed()?;
        let mut doc = PdfDocument::new(title);
        let font_id = doc.add_font(font);
        let layout = self.paginate(tables);
        let total = layout.len();
        let mut pages = Vec::with_capacity(total);
        for (i, lines) in layout.into_iter().enumerate() {
            let n = i + 1;
            let mut page = Page::new(font_id.clone(), font);
            decorate(&mut page, n, total);
            for (y, line) in lines {
                draw_line(&mut page, tables, y, &line);
            }
            page.line(MARGIN_L, FOOTER_Y - 4.0, PAGE_W - MARGIN_R, FOOTER_Y - 4.0, 0.3);
            page.text_fit(MARGIN_L, FOOTER_Y, 8.0, footer_left, CONTENT_W - 35.0, Align::Left);
            page.text_right(PAGE_W - MARGIN_R, FOOTER_Y, 8.0, &format!("page {n} of {total}"));
            pages.push(page.into_pdf_page());
        }
        let mut warnings = Vec::new();
        let bytes = doc.with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings);
        Ok(bytes)
    }
}

fn draw_cells(page: &mut Page<'_>, columns: &[Column], cells: &[String], y: f32, size: f32) {
    let mut x = MARGIN_L;
    for (col, cell) in columns.iter().zip(cells) {
        // 1.5 mm gutter so right-aligned numbers don't touch the next column's text.
        page.text_fit(x + 0.5, y, size, cell, col.width - 2.0, col.align);
        x += col.width;
    }
}

fn draw_line(page: &mut Page<'_>, tables: &[Table], y: f32, line: &Slot) {
    match *line {
        Slot::Title(t) => page.text(MARGIN_L, y, TITLE_SIZE, &tables[t].title),
        Slot::Header(t) => {
            let table = &tables[t];
            page.fill_rect(MARGIN_L, y - 3.6, CONTENT_W, ROW_H, 0.88);
            let titles: Vec<String> = table.columns.iter().map(|c| c.title.clone()).collect();
            draw_cells(page, &table.columns, &titles, y, HEADER_SIZE);
        }
        Slot::Row(t, r) => {
            let table = &tables[t];
            if r % 2 == 1 {
                // Zebra stripes: a packer ticking off 1,000 card numbers must not slip a line.
                page.fill_rect(MARGIN_L, y - 3.6, CONTENT_W, ROW_H, 0.96);
            }
            draw_cells(page, &table.columns, &table.rows[r], y, TEXT_SIZE);
        }
        Slot::Total(t) => {
            let table = &tables[t];
            if let Some(total) = &table.total {
                page.line(MARGIN_L, y - 4.0, PAGE_W - MARGIN_R, y - 4.0, 0.8);
                draw_cells(page, &table.columns, total, y, TEXT_SIZE + 0.5);
            }
        }
        Slot::Gap => {}
    }
}
