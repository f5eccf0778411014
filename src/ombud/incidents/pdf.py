"""PDF documents of the incidents domain (letters for post, regulator reports), with fpdf2.

fpdf2: pure Python, maintained, embeds a Unicode TrueType font (DejaVu Sans where the system has it, as Debian
does) and writes compact files fast enough for a print run of 100,000 letters. Without a TrueType font the
core Helvetica is used and characters outside Latin-1 are replaced, never dropped silently from a heading.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    return None


class Document:
    """A portrait A4/Letter document of paragraphs and headings, at a minimum type size."""

    def __init__(self, *, title: str, font_pt: int = 11) -> None:
        self.pdf = FPDF(format="letter", unit="pt")
        self.pdf.set_title(title)
        self.pdf.set_creator("Ombud")
        self.pdf.set_auto_page_break(auto=True, margin=54)
        self.pdf.set_margins(64, 54, 64)
        self.font_pt = font_pt
        files = _font_files()
        if files:
            self.pdf.add_font("body", "", str(files[0]))
            self.pdf.add_font("body", "B", str(files[1]))
            self.family, self.unicode = "body", True
        else:  # pragma: no cover - Debian ships DejaVu
            self.family, self.unicode = "Helvetica", False

    def _text(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def page(self) -> None:
        self.pdf.add_page()

    def heading(self, text: str, size: int | None = None) -> None:
        self.pdf.set_font(self.family, "B", size or self.font_pt + 3)
        self.pdf.multi_cell(0, (size or self.font_pt + 3) * 1.4, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(self.font_pt * 0.3)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font(self.family, "", self.font_pt)
        self.pdf.multi_cell(0, self.font_pt * 1.4, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(self.font_pt * 0.5)

    def lines(self, lines: list[str]) -> None:
        self.pdf.set_font(self.family, "", self.font_pt)
        for line in lines:
            self.pdf.cell(0, self.font_pt * 1.4, self._text(line), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(self.font_pt)

    def notice(self, text: str, headings: list[str], title: str) -> None:
        """A rendered plain-text notice: its title and required headings set as headings, the rest as text."""
        marks = {title, *headings}
        buffer: list[str] = []

        def flush() -> None:
            body = "\n".join(buffer).strip()
            if body:
                self.paragraph(body)
            buffer.clear()

        for line in text.splitlines():
            if line.strip() in marks:
                flush()
                self.heading(line.strip(), self.font_pt + (6 if line.strip() == title else 2))
            else:
                buffer.append(line)
        flush()

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def save(self, path: Path) -> None:
        path.write_bytes(self.output())
