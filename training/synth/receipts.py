"""Till slips: narrow receipts with a store header, item lines, totals, cash rounding, payment and change."""

from __future__ import annotations

import random
from decimal import Decimal

from training.synth.canvas import BLACK, FAMILIES, Canvas
from training.synth.content import Content
from training.synth.layouts import Drawer
from training.synth.logo import make_logo

ITEM_STYLES = ("two_line", "columns", "simple")
TAX_CODES = "ABCDEFGH"  # letters tills print beside each item for its tax rate


class ReceiptLayout(Drawer):
    """Draws one till slip; the page is as long as its content."""

    def __init__(self, content: Content, rng: random.Random):
        self.W = rng.choice((164.0, 200.0, 227.0, 227.0))
        super().__init__(content, rng, Canvas(self.W, 3000.0))
        family = rng.choices(("cour", "helv", "tiro"), weights=(55, 35, 10))[0]
        if content.money.mark != "₹":
            self.regular, self.bold, self.italic = FAMILIES[family]
        self.mono = self.regular == "cour"
        self.fs = rng.uniform(6.4, 8.4) * self.W / 200
        self.lh = self.fs * rng.uniform(1.2, 1.45)
        self.m = rng.uniform(7, 14)
        self.x0, self.x1 = self.m, self.W - self.m
        self.centered = rng.random() < 0.75
        self.upper_all = rng.random() < (0.7 if content.country in ("MY", "US") else 0.3)
        self.item_style = rng.choice(ITEM_STYLES)
        self.header_mark = self.item_style == "columns" and rng.random() < 0.5
        self.mark_total = rng.random() < 0.6 and not (self.header_mark and rng.random() < 0.7)
        self.code_in_label = not self.mark_total and not self.header_mark
        self.vendor_in_logo = rng.random() < 0.08
        self.y = self.m
        self.layout = f"till-{self.item_style}" + ("" if self.centered else "-left")
        if self.upper_all:
            v = content.vendor
            v.name, v.brand = v.name.upper(), v.brand.upper()
            v.address = [a.upper() for a in v.address]

    def t(self, s: str) -> str:
        """Text as this till prints it."""
        return s.upper() if self.upper_all else s

    def line(self, s: str, size: float | None = None, bold: bool = False, align: str | None = None,
             field: str | None = None, gap: float = 1.0) -> float:  # fmt: skip
        """Print one line at the cursor."""
        size = size or self.fs
        room = self.x1 - self.x0
        wide = self.cv.width(s, size, self.bold if bold else self.regular)
        if wide > room:  # tills shrink (condense) a line that does not fit
            size *= room / wide
        self.y += self.lh * gap * size / self.fs
        align = align or ("center" if self.centered else "left")
        x = {"center": self.W / 2, "left": self.x0, "right": self.x1}[align]
        return self.cv.text(x, self.y, s, size, self.bold if bold else self.regular, BLACK, align, field)

    def pair(self, label: str, value: Decimal | str, *, field: str | None = None, bold: bool = False,
             size: float | None = None, mark: bool = False) -> None:  # fmt: skip
        """A label at the left and a right-aligned amount on one line."""
        size = size or self.fs
        self.y += self.lh * size / self.fs
        font = self.bold if bold else self.regular
        self.cv.text(self.x0, self.y, self.t(label), size, font, field=f"{field}_label" if field else None)
        if isinstance(value, str):
            self.cv.text(self.x1, self.y, value, size, font, BLACK, "right", field)
        else:
            self.amount_text(self.x1, self.y, value, size, font, mark=mark, field=field)

    def rule(self) -> None:
        """A separator: dashes or equals as text, or a drawn rule."""
        self.y += self.lh * 0.7
        kind = self._words.setdefault("rule", self.rng.choice(("-", "=", "line", "-", "*")))
        if kind == "line":
            self.cv.line(self.x0, self.y - self.fs * 0.3, self.x1, self.y - self.fs * 0.3, BLACK, 0.5,
                         dashes="[2 1] 0" if self.rng.random() < 0.5 else None)  # fmt: skip
            return
        n = int((self.x1 - self.x0) / self.cv.width(kind, self.fs, self.regular))
        self.cv.text(self.x0, self.y, kind * n, self.fs, self.regular)

    def draw(self) -> Canvas:
        """Lay the slip out and cut the page to its length."""
        self.header()
        self.meta()
        self.rule()
        self.items()
        self.rule()
        self.totals()
        self.payment()
        if self.c.tax_inclusive and self.rng.random() < 0.6:
            self.tax_summary()
        self.footer()
        self.cv.page.height = self.y + self.m + self.lh
        return self.cv

    # blocks -----------------------------------------------------------------------------------------------
    def header(self) -> None:
        """Store name, legal name, address, phone, tax id and the slip's title."""
        v, r = self.c.vendor, self.rng
        if self.vendor_in_logo or r.random() < 0.2:
            pix, w, h = make_logo(r, v.brand if self.vendor_in_logo or r.random() < 0.5 else None, BLACK,
                                  r.uniform(20, 34), self.x1 - self.x0)  # fmt: skip
            x = (self.W - w) / 2 if self.centered else self.x0
            self.cv.image(x, self.y, x + w, self.y + h, pix)
            self.y += h
        big = self.fs * r.uniform(1.2, 1.8)
        brand_line = v.brand != v.name and r.random() < 0.5 and not self.vendor_in_logo
        if brand_line:
            self.line(v.brand, big, bold=True, field="vendor_brand")
        legal = not self.vendor_in_logo or r.random() < 0.3
        if legal:
            self.vendor_in_logo = False  # the name is in the text right under the logo
            reg = v.tax.registrations[0] if v.country == "MY" and v.tax and v.tax.registrations else ""
            size = self.fs if brand_line else big
            if reg and r.random() < 0.6:
                text = f"{v.name} {reg}"
                w = self.line(text, size, bold=not brand_line)
                x = self.W / 2 - w / 2 if self.centered else self.x0
                full = self.cv.width(text, size, self.regular if brand_line else self.bold)
                name_w = self.cv.width(v.name, size, self.regular if brand_line else self.bold) * w / full
                self.cv.mark("vendor", x, self.y, name_w, size * w / full, v.name)
            else:
                self.line(v.name, size, bold=not brand_line, field="vendor")
                if reg:
                    self.line(reg, self.fs * 0.9)
        for a in v.address:
            self.line(a)
        if r.random() < 0.85:
            assert v.phone is not None  # make_party gives every party a phone
            w = self.line(self.t(f"{self.label('phone')} {v.phone}"))
            self._mark_tail("vendor_phone", v.phone, w)
        if v.tax and r.random() < 0.75:
            text = f"{v.tax.label}{self.colon} {v.tax.printed}"
            w = self.line(self.t(text))
            self._mark_tail("vendor_tax_id", self.t(v.tax.printed), w)
        if r.random() < 0.7:
            self.line(self.t(self.word("receipt_title")), self.fs * 1.1, bold=True, gap=1.4)

    def _mark_tail(self, field: str, value: str, line_width: float) -> None:
        """Span for a value printed at the end of the line just drawn."""
        size = self.fs
        x_end = self.W / 2 + line_width / 2 if self.centered else self.x0 + line_width
        w = self.cv.width(value, size, self.regular)
        self.cv.mark(field, x_end - w, self.y, w, size, value)

    def meta(self) -> None:
        """Receipt number, cashier, and the date with the time beside it."""
        c, r = self.c, self.rng
        date = c.fmt_date(c.date)
        self.y += self.lh * 0.4
        style = r.choice(("one_line", "glued", "two_labels", "bare", "time_first"))
        label_no = self.t(f"{self.label('receipt_number')}")
        no_text = f"{label_no} {c.number}" if r.random() < 0.8 else f"{label_no}{c.number}"
        self.y += self.lh
        w = self.cv.text(self.x0, self.y, no_text, self.fs, self.regular)
        self.cv.mark("invoice_number", self.x0 + w - self.cv.width(c.number, self.fs, self.regular), self.y,
                     self.cv.width(c.number, self.fs, self.regular), self.fs, c.number)  # fmt: skip
        if c.cashier and r.random() < 0.6:
            self.cv.text(self.x1, self.y, self.t(f"{self.word('cashier')}{self.colon} {c.cashier}"), self.fs,
                         self.regular, BLACK, "right")  # fmt: skip
        self.y += self.lh
        dl = self.t(self.word("receipt_date"))
        tl = self.t(self.word("time"))
        if style == "one_line":
            prefix = f"{dl}{self.colon} "
            text = f"{prefix}{date} {c.time}"
        elif style == "glued":
            prefix = f"{dl}:"
            text = f"{prefix}{date} {c.time}"
        elif style == "two_labels":
            prefix = f"{dl}{self.colon} "
            text = f"{prefix}{date}"
            self.cv.text(self.x1, self.y, f"{tl}{self.colon} {c.time}", self.fs, self.regular, BLACK, "right")
        elif style == "bare":
            prefix = ""
            text = f"{date} {c.time}"
        else:
            prefix = f"{c.time} "
            text = f"{prefix}{date}"
        self.cv.text(self.x0, self.y, text, self.fs, self.regular)
        self.cv.mark("date", self.x0 + self.cv.width(prefix, self.fs, self.regular), self.y,
                     self.cv.width(date, self.fs, self.regular), self.fs, date)  # fmt: skip
        if r.random() < 0.15:
            self.line(self.t(f"{self.word('table')} {r.randint(1, 40)}"), align="left")

    def items(self) -> None:
        """Item lines in one of three till styles."""
        c, r = self.c, self.rng
        codes = {rate: TAX_CODES[i] for i, rate in enumerate(sorted({t.rate for t in c.tax_lines}, reverse=True))}
        show_codes = c.tax_inclusive and r.random() < 0.5
        cur = f"({c.money.mark})" if self.header_mark else ""
        if self.item_style == "columns":
            qx, px = self.x0 + (self.x1 - self.x0) * 0.52, self.x0 + (self.x1 - self.x0) * 0.74
            self.y += self.lh
            heads = (self.t(self.word("quantity")), self.t(self.word("unit_price")), self.t(self.word("line_amount")))
            desc_head = self.t(self.word("description"))
            room = qx - self.cv.width(heads[0], self.fs, self.bold) - self.x0 - self.fs
            head_size = min(self.fs, self.fs * room / self.cv.width(desc_head, self.fs, self.bold))
            self.cv.text(self.x0, self.y, desc_head, head_size, self.bold)
            self.cv.text(qx, self.y, heads[0], self.fs, self.bold, BLACK, "right")
            self.cv.text(px, self.y, f"{heads[1]}{cur}" if cur and r.random() < 0.5 else heads[1], self.fs,
                         self.bold, BLACK, "right")  # fmt: skip
            amount_head = f"{heads[2]}{cur}"
            self.cv.text(self.x1, self.y, amount_head, self.fs, self.bold, BLACK, "right")
            if cur:
                mw = self.cv.width(c.money.mark + ")", self.fs, self.bold)
                self.cv.mark("currency", self.x1 - mw, self.y, self.cv.width(c.money.mark, self.fs, self.bold),
                             self.fs, c.money.mark)  # fmt: skip
        for it in c.items:
            desc = self.t(it.description)
            code = f" {codes.get(it.tax_rate, 'A')}" if show_codes else ""
            amount = self.num(it.amount) + code
            if self.item_style == "columns":
                self.y += self.lh
                width = qx - self.x0 - self.cv.width("000", self.fs, self.regular)
                lines = self.cv.wrap(desc, width, self.fs, self.regular) or [desc]
                self.cv.text(self.x0, self.y, lines[0], self.fs, self.regular)
                self.cv.text(qx, self.y, self.qty(it.quantity), self.fs, self.regular, BLACK, "right")
                self.cv.text(px, self.y, self.num(it.unit_price), self.fs, self.regular, BLACK, "right")
                self.cv.text(self.x1, self.y, amount, self.fs, self.regular, BLACK, "right")
                for extra in lines[1:]:
                    self.line(extra, align="left")
            elif self.item_style == "two_line" and it.quantity != 1:
                self.line(desc, align="left")
                self.y += self.lh
                self.cv.text(self.x0 + self.fs, self.y, f"{self.qty(it.quantity)} x {self.num(it.unit_price)}",
                             self.fs, self.regular)  # fmt: skip
                self.cv.text(self.x1, self.y, amount, self.fs, self.regular, BLACK, "right")
            else:
                self.y += self.lh
                prefix = f"{self.qty(it.quantity)} " if it.quantity != 1 and r.random() < 0.5 else ""
                self.cv.text(self.x0, self.y, f"{prefix}{desc}", self.fs, self.regular)
                self.cv.text(self.x1, self.y, amount, self.fs, self.regular, BLACK, "right")
        if r.random() < 0.3:
            count = sum((it.quantity for it in c.items), Decimal(0))
            self.line(self.t(f"{self.word('items_count')}{self.colon} {self.qty(count)}"), align="left")

    def totals(self) -> None:
        """Net, tax, cash rounding and the total, as the till prints them."""
        c, r = self.c, self.rng
        big = self.fs * r.uniform(1.0, 1.5)
        if not c.tax_inclusive:
            self.pair(self.word("excl").format(tax=c.tax_lines[0].name.upper()), c.subtotal, field="subtotal")
            for t in c.tax_lines:
                label = f"{t.name} {self.rate(t.rate)}" if r.random() < 0.7 else f"{t.name} @{self.rate(t.rate)}"
                self.pair(label, t.amount, field="tax" if len(c.tax_lines) == 1 else None)
            if len(c.tax_lines) > 1:
                self.pair(f"Total {c.tax_lines[0].name}" if c.language == "en" else c.tax_lines[0].name, c.tax,
                          field="tax")  # fmt: skip
        if c.rounding:
            if r.random() < 0.6:
                self.pair(self.word("gross").format(tax=c.tax_lines[0].name.upper()), c.total - c.rounding)
            self.pair(self.word("rounding"), c.rounding, field="rounding")
        label = self.word("to_pay")
        if self.code_in_label:
            label = f"{label} {c.money.mark}" if not label.endswith(("EUR", "EURO")) else label
        self.pair(label, c.total, field="total", bold=True, size=big, mark=self.mark_total)
        if self.code_in_label and c.money.mark in label:
            # the code sits at the end of the label just drawn
            lw = self.cv.width(self.t(label), big, self.bold)
            mw = self.cv.width(self.t(c.money.mark), big, self.bold)
            self.cv.mark("currency", self.x0 + lw - mw, self.y, mw, big, self.t(c.money.mark))
        if c.tax_inclusive and r.random() < 0.6:
            t = c.tax_lines[0]
            rate = self.rate(t.rate) if len(c.tax_lines) == 1 else ""
            text = " ".join(self.word("incl_tax").format(tax=t.name, rate=rate).split())
            self.pair(text, c.tax, field="tax")

    def payment(self) -> None:
        """Card or cash tendered and change."""
        c, r = self.c, self.rng
        if c.card:
            card = self.word("card")
            digits = f" ****{r.randint(1000, 9999)}" if r.random() < 0.5 else ""
            self.pair(f"{card}{digits}", c.total)
            if r.random() < 0.5:
                approved = {"en": "APPROVED", "de": "Genehmigt", "fr": "Autorisé", "nl": "Akkoord", "es": "Aprobado",
                            "it": "Autorizzato"}[c.language]  # fmt: skip
                self.line(self.t(approved), self.fs * 0.9, align="left")
        elif c.tendered is not None:
            assert c.change is not None  # set with tendered
            self.pair(self.word("cash"), c.tendered)
            self.pair(self.word("change"), c.change)

    def tax_summary(self) -> None:
        """Per-rate net / tax / gross lines of a tax-inclusive slip."""
        c = self.c
        self.rule()
        self.line(self.t(self.word("tax_summary").format(tax=c.tax_lines[0].name.upper())), self.fs * 0.9, align="left")
        cols = [self.x0 + (self.x1 - self.x0) * f for f in (0.55, 0.78, 1.0)]
        single = len(c.tax_lines) == 1
        for i, t in enumerate(c.tax_lines):
            self.y += self.lh
            self.cv.text(self.x0, self.y, f"{TAX_CODES[i]} {self.rate(t.rate)}", self.fs * 0.9, self.regular)
            for x, v, fld in zip(cols, (t.base, t.amount, t.base + t.amount), ("subtotal", "tax", None), strict=True):
                self.cv.text(x, self.y, self.num(v), self.fs * 0.9, self.regular, BLACK, "right",
                             fld if single else None)  # fmt: skip

    def footer(self) -> None:
        """Thank-you line, notes, web address and a barcode."""
        r, v = self.rng, self.c.vendor
        self.y += self.lh * 0.5
        if r.random() < 0.8:
            self.line(self.t(self.word("thanks")), gap=1.3)
        if r.random() < 0.4:
            self.line(self.t(self.word("footer")), self.fs * 0.9)
        if r.random() < 0.35:
            assert v.web is not None  # make_party gives every party a web address
            w = self.line(v.web, self.fs * 0.9)
            x = self.W / 2 - w / 2 if self.centered else self.x0
            self.cv.mark("vendor_web", x, self.y, w, self.fs * 0.9, v.web)
        if r.random() < 0.35:
            self.barcode()

    def barcode(self) -> None:
        """A drawn barcode (bars only, no text)."""
        self.y += self.lh
        width = min(140.0, self.x1 - self.x0)
        x = (self.W - width) / 2
        h = self.fs * 3
        while x < (self.W + width) / 2:
            w = self.rng.choice((0.7, 0.7, 1.4, 2.1))
            self.cv.rect(x, self.y, x + w, self.y + h, fill=BLACK)
            x += w + self.rng.choice((0.7, 1.4, 2.1))
        self.y += h
