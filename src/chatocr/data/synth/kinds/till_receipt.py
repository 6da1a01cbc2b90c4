"""English till receipts and restaurant checks of American, British, European and Australian shops.

The ``receipt`` kind prints Malaysian-style receipts (SDN BHD companies, JALAN streets, GST 6%);
photographed receipts from elsewhere look different: a brand name in the header, often with a slogan
or a store number around it, a street line and a "City, ST 12345" line, a phone printed as
``ph 215-964-9009`` or ``(415) 379-3604``, month-first dates, and totals under many names (Total
Taxes, HST, VAT 20%, MwSt 19%, Grand Total, Amount Due, BAL DUE) among payment lines that repeat the total.

The fields are asked as a user names them (Store name or Merchant, Address, Phone, Date, Time,
Subtotal, Tax, Tips, Total), now and then by the key the receipt prints instead.  Optional fields the
receipt does not print (a tip, a phone, a subtotal, a due date) are asked too and labelled absent.

Labels: the store name and address as printed (lines joined with one space), the phone without its
prefix, date and time as printed (a US date is month-first, which a reader must not reorder),
amounts "12.50".

Layouts: ``till`` (a grocery or store till roll, centred header, two-column totals), ``check`` (a
restaurant check: server, table and guests, a tip line, a signature line) and ``pump`` (a gas-station
or kiosk slip, everything left-aligned as "KEY: value"; the held-out layout).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from chatocr.data.synth import fonts, values
from chatocr.data.synth.canvas import Canvas, run
from chatocr.data.synth.kinds import DocKind, RenderRequest, label_absent

WIDTH = 880  # a till roll scanned or photographed at about 200 dpi
MARGIN = 40
MIN_HEIGHT = 1000  # short receipts keep some paper below the last line

# Names, places and slogans are made up or common words: none is taken from a benchmark document.
FIRST_WORDS = ["Golden", "Blue", "Red", "Green", "Silver", "Lucky", "Sunset", "Harbor", "Maple", "Oak", "Pine",
               "River", "Lake", "Valley", "Urban", "Village", "Corner", "Union", "Royal", "Little", "Big", "Old Town",
               "Fresh", "Wild", "Olive", "Copper", "Rustic", "Brick", "Coastal", "Prairie", "Northside", "Westside",
               "Eastgate", "Cedar", "Willow", "Summit", "Bayside", "Hilltop", "Redwood", "Granite"]  # fmt: skip
SECOND_WORDS = ["Moon", "Star", "Fox", "Rose", "Bridge", "Garden", "Anchor", "Lantern", "Barrel", "Kettle", "Spoon",
                "Fork", "Table", "Mill", "Farm", "Harvest", "Crown", "Bell", "Lotus", "Palm", "Stone", "Square",
                "Point", "House", "Leaf", "Owl", "Wave", "Pepper", "Sparrow", "Acorn"]  # fmt: skip
TRADES = [
    "Bistro",
    "Grill",
    "Cafe",
    "Diner",
    "Kitchen",
    "Bakery",
    "Deli",
    "Pizza",
    "Foods",
    "Market",
    "Pub",
    "Supermarket",
    "Pharmacy",
    "Hardware",
    "Bar & Grill",
    "Restaurant",
    "Coffee",
    "Burgers",
    "Noodle Bar",
    "Cantina",
    "Wholesale",
    "Outlet",
    "Books",
    "Liquors",
    "Gas & Go",
    "Car Wash",
    "Steakhouse",
    "Grocer",
]
OWNERS = ["Tony", "Rosa", "Charlie", "Marco", "Nonna", "Jack", "Lucy", "Sam", "Dolores", "Murphy", "Sal", "Gus",
          "Ruby", "Frankie", "Vinny", "Mabel", "Otto", "Ingrid", "Paulo", "Hank"]  # fmt: skip
SLOGANS = ["Welcome!", "Fresh Food Fast", "Since 1985", "Family Owned & Operated", "Where Friends Meet",
           "Est. 1962", "Quality You Can Taste", "Open 7 Days", "Your Neighborhood Store", "Eat In / Take Away",
           "Proudly Local", "Good Food, Good Mood", "Serving You Since 1999", "Hand Made Daily",
           "Low Prices Every Day", "Coffee - Tea - Cakes"]  # fmt: skip
FOOTERS = ["Thank you, please come again", "THANK YOU FOR SHOPPING WITH US", "Have a nice day!",
           "See you soon!", "Returns within 30 days with receipt", "Follow us on Instagram",
           "Tell us how we did: survey.example.com", "CUSTOMER COPY", "Thank you for dining with us"]  # fmt: skip
ITEMS = [("Coffee", 1.95), ("Latte", 4.25), ("Cheeseburger", 9.50), ("Fries", 3.25), ("Caesar Salad", 8.95),
         ("Chicken Wings", 11.50), ("Iced Tea", 2.75), ("Pancakes", 7.25), ("Club Sandwich", 10.95),
         ("Draft Beer", 6.00), ("House Wine", 8.50), ("Soup of the Day", 5.50), ("Milk 1 Gal", 3.79),
         ("Bananas", 1.29), ("Bread Loaf", 2.99), ("Eggs Dozen", 3.49), ("Orange Juice", 4.59),
         ("Paper Towels", 6.99), ("Shampoo", 5.49), ("Batteries AA", 8.99), ("Unleaded 87", 38.40),
         ("Car Wash Deluxe", 12.00), ("Greeting Card", 4.99), ("Notebook", 2.49), ("Pizza Slice", 3.50)]  # fmt: skip
WAITERS = ["Rob", "Amy", "Jose", "Kelly", "Tom", "Priya", "Ana", "Mike", "Jess", "Liam"]


@dataclass(frozen=True)
class Region:
    currency: str  # printed before the amount; "" for none
    euro_comma: bool  # amounts printed 12,50 €
    tax_keys: tuple[str, ...]
    tax_rate: float
    date_styles: tuple[str, ...]
    address: str  # us | uk | eu | au


REGIONS = [
    Region("$", False, ("Tax", "TAX", "Sales Tax", "Taxes", "Tax 1", "State Tax", "TAX 8.25%"), 0.08,
           ("mdy", "mdy", "mdy2", "mon_d_y", "mon_slash"), "us"),
    Region("$", False, ("HST", "GST", "HST 13%", "Tax"), 0.13, ("mdy", "ymd", "mon_d_y"), "us"),
    Region("£", False, ("VAT", "VAT 20%", "VAT @ 20%", "Total VAT"), 0.2, ("dmy", "dmy2", "d_mon_y"), "uk"),
    Region("€", True, ("MwSt 19%", "TVA 10%", "IVA 21%", "VAT"), 0.19, ("dmy_dot", "dmy", "d_mon_y"), "eu"),
    Region("$", False, ("GST", "GST Included", "Incl. GST"), 0.1, ("dmy", "d_mon_y"), "au"),
]  # fmt: skip
US_STREETS = ["Maple Ave", "Highway 12", "Sunset Blvd", "Oak St", "Elm Street", "Ocean Dr", "Market St", "Broadway",
              "Pine Ave", "Lincoln Way", "Washington St", "Route 9", "Park Ave", "Cedar Ln"]  # fmt: skip
US_CITIES = [("Boston", "MA"), ("Austin", "TX"), ("Phoenix", "AZ"), ("Columbus", "OH"), ("Madison", "WI"),
             ("Salem", "OR"), ("Denver", "CO"), ("Miami", "FL"), ("Raleigh", "NC"), ("Tucson", "AZ"),
             ("Toledo", "OH"), ("Fresno", "CA"), ("Ottawa", "ON"), ("Halifax", "NS")]  # fmt: skip
UK_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Market Place", "London Road"]
UK_TOWNS = [("Reading", "RG1 2AB"), ("Norwich", "NR2 1XY"), ("Chester", "CH1 3PQ"), ("Exeter", "EX4 6TR")]
EU_STREETS = [("Hauptstr.", "Hamburg"), ("Calle Mayor", "Valencia"), ("Rue Centrale", "Lyon"),
              ("Via Garibaldi", "Torino"), ("Kirchgasse", "Graz")]  # fmt: skip
SITES = ["Suite {}", "Unit {}", "Shop {}, Level 2", "Riverside Mall", "Terminal B, Gate {}", "Westgate Plaza",
         "Store {}, Eastfield Centre"]  # fmt: skip
AU_STREETS = ["George St", "King St", "Pacific Hwy", "Beach Rd", "Station St"]
AU_SUBURBS = [("Parramatta", "NSW", "2150"), ("Fitzroy", "VIC", "3065"), ("Toowong", "QLD", "4066")]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# What a user calls each field: one of these names is chosen per receipt (the printed keys follow below).
USER_NAMES = {
    "store": ("Store name", "Merchant", "Store", "Shop name", "Merchant name"),
    "address": ("Address", "Store address", "Merchant address"),
    "phone": ("Phone", "Tel", "Telephone", "Phone number"),
    "date": ("Date", "Purchase date", "Transaction date"),
    "time": ("Time", "Transaction time"),
    "subtotal": ("Subtotal", "Sub total"),
    "tax": ("Tax", "Sales tax", "Tax amount"),
    "tip": ("Tips",),
    "total": ("Total", "Total amount", "Amount paid"),
}
# Fields a user may ask of any document that a till receipt does not hold.
NEVER_PRINTED: list[tuple[str, ...]] = [("Customer name", "Buyer"), ("Invoice number",), ("Due date",)]
SUBTOTAL_KEYS = ("Subtotal", "SUBTOTAL", "Sub Total", "Sub-Total", "SUB TTL", "Net Total")
TOTAL_KEYS = ("Total", "TOTAL", "Grand Total", "Amount Due", "Balance Due", "BAL DUE", "Total Due", "TOTAL USD")
TIP_KEYS = ("Tip", "Gratuity", "Automatic Gratuity", "Tip Amount")
PHONE_PREFIXES = ("", "ph ", "Tel: ", "Phone: ", "T: ", "TEL ", "Ph: ")


@dataclass
class Sale:
    region: Region
    store: list[str]  # the name as printed, one line or two
    store_number: str
    slogan: str
    address: list[str]
    phone: str
    phone_printed: str
    date: str
    time: str
    items: list[tuple[str, int, Decimal]]
    subtotal: Decimal
    tax: Decimal
    tip: Decimal
    tax_key: str
    subtotal_key: str
    total_key: str
    tip_key: str
    printed: set[str] = field(default_factory=set)  # optional fields the receipt prints

    @property
    def total(self) -> Decimal:
        """What the customer pays: the subtotal and whichever of tax and tip the receipt charges."""
        return self.subtotal + (self.tax if "tax" in self.printed else 0) + (self.tip if "tip" in self.printed else 0)


def _store_name(rng: random.Random) -> list[str]:
    pattern = rng.random()
    if pattern < 0.3:
        name = [f"{rng.choice(OWNERS)}'s", rng.choice(TRADES)]
    elif pattern < 0.7:
        name = [f"{rng.choice(FIRST_WORDS)} {rng.choice(SECOND_WORDS)}", rng.choice(TRADES)]
    else:
        name = [rng.choice(FIRST_WORDS) + rng.choice(["", " "]) + rng.choice(SECOND_WORDS)]
    case = rng.random()
    lines = [" ".join(name)] if len(name) == 1 or rng.random() < 0.75 else name
    if case < 0.45:
        lines = [line.upper() for line in lines]
    return lines


def _date(rng: random.Random, styles: tuple[str, ...]) -> str:
    day = values.random_date(rng, 2010, 2025)
    style = rng.choice(styles)
    month = MONTHS[day.month - 1]
    return {
        "mdy": f"{day.month}/{day.day}/{day.year}",
        "mdy2": f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}",
        "mon_d_y": f"{month} {day.day}, {day.year}",
        "mon_slash": f"{month}/{day.day:02d}/{day.year}",
        "ymd": day.isoformat(),
        "dmy": f"{day.day:02d}/{day.month:02d}/{day.year}",
        "dmy2": f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}",
        "dmy_dot": f"{day.day:02d}.{day.month:02d}.{day.year}",
        "d_mon_y": f"{day.day} {month.upper()} {day.year}",
    }[style]


def _time(rng: random.Random) -> str:
    hour, minute, second = rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)
    style = rng.random()
    if style < 0.4:
        return f"{(hour - 1) % 12 + 1}:{minute:02d}:{second:02d} {'PM' if hour >= 12 else 'AM'}"
    if style < 0.55:
        return f"{(hour - 1) % 12 + 1}:{minute:02d}{'PM' if hour >= 12 else 'AM'}"
    if style < 0.8:
        return f"{hour:02d}:{minute:02d}"
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def _street_and_town(rng: random.Random, region: Region) -> tuple[str, str, str]:
    """A street line, a town line and a phone number of the same country."""
    if region.address == "us":
        city, state = rng.choice(US_CITIES)
        area, a, b = rng.randint(201, 989), rng.randint(200, 999), values.digits(rng, 4)
        phone = rng.choice([f"({area}) {a}-{b}", f"{area}-{a}-{b}", f"{area}.{a}.{b}"])
        street = f"{rng.randint(1, 20999)} {rng.choice(US_STREETS)}"
        return street, f"{city}, {state} {rng.randint(10000, 99999)}", phone
    if region.address == "uk":
        town, postcode = rng.choice(UK_TOWNS)
        phone = f"0{rng.randint(113, 1999)} {values.digits(rng, 6)}"
        return f"{rng.randint(1, 250)} {rng.choice(UK_STREETS)}", f"{town} {postcode}", phone
    if region.address == "eu":
        street, city = rng.choice(EU_STREETS)
        phone = f"+{rng.choice([49, 34, 33, 39, 43])} {rng.randint(10, 99)} {values.digits(rng, 7)}"
        return f"{street} {rng.randint(1, 120)}", f"{rng.randint(10000, 99999)} {city}", phone
    suburb, state, postcode = rng.choice(AU_SUBURBS)
    phone = f"(0{rng.randint(2, 8)}) {values.digits(rng, 4)} {values.digits(rng, 4)}"
    return f"{rng.randint(1, 300)} {rng.choice(AU_STREETS)}", f"{suburb}, {state} {postcode}", phone


def _address(rng: random.Random, region: Region) -> tuple[list[str], str]:
    """The printed address lines (one, two or three) and a phone number."""
    street, town, phone = _street_and_town(rng, region)
    shape = rng.random()
    if shape < 0.2:
        return [f"{street}, {town}"], phone
    if shape < 0.45:
        return [rng.choice(SITES).format(rng.randint(2, 240)), street, town], phone
    return [street, town], phone


def sample(rng: random.Random) -> Sale:
    region = rng.choice(REGIONS)
    items = [
        (name, rng.choice([1, 1, 1, 2, 3]), values.money(Decimal(str(price)) * Decimal(rng.uniform(0.8, 1.3))))
        for name, price in rng.sample(ITEMS, rng.randint(1, 6))
    ]
    subtotal = sum((values.money(price * qty) for _, qty, price in items), Decimal(0))
    tax = values.money(subtotal * Decimal(str(region.tax_rate * rng.uniform(0.4, 1.0))))
    tip = values.money(subtotal * Decimal(rng.choice(["0.15", "0.18", "0.20"])))
    address, phone = _address(rng, region)
    printed = {
        name for name, p in (("phone", 0.8), ("subtotal", 0.85), ("tax", 0.85), ("tip", 0.25)) if rng.random() < p
    }
    return Sale(
        region=region,
        store=_store_name(rng),
        store_number=rng.choice(
            ["", "", f"#{rng.randint(1, 999)}", f"Store {values.digits(rng, 4)}", f"#{rng.randint(1000, 99999)}"]
        ),
        slogan=rng.choice(SLOGANS),
        address=address,
        phone=phone,
        phone_printed=rng.choice(PHONE_PREFIXES) + phone,
        date=_date(rng, region.date_styles),
        time=_time(rng),
        items=items,
        subtotal=subtotal,
        tax=tax,
        tip=tip,
        tax_key=rng.choice(region.tax_keys),
        subtotal_key=rng.choice(SUBTOTAL_KEYS),
        total_key=rng.choice(TOTAL_KEYS),
        tip_key=rng.choice(TIP_KEYS),
        printed=printed,
    )


def _money(sale: Sale, value: Decimal, symbol: bool = True) -> str:
    text = values.amount_printed(value)
    if sale.region.euro_comma:
        text = text.replace(".", ",")
        return f"{text} €" if symbol else text
    return f"{sale.region.currency}{text}" if symbol and sale.region.currency else text


class Names:
    """The name each field is asked by on this receipt: a user's name for it, or now and then the printed key."""

    def __init__(self, rng: random.Random, sale: Sale) -> None:
        keys = {"subtotal": sale.subtotal_key, "tax": sale.tax_key, "total": sale.total_key}
        self.by_field = {
            # A printed key with a rate in it ("VAT 20%") is not what anyone asks for.
            f: keys[f]
            if f in keys and not any(ch.isdigit() for ch in keys[f]) and rng.random() < 0.25
            else rng.choice(names)
            for f, names in USER_NAMES.items()
        }

    def __getitem__(self, field_id: str) -> str:
        return self.by_field[field_id]


def _header(canvas: Canvas, req: RenderRequest, sale: Sale, names: Names, y: float, align: str) -> float:
    rng = req.rng
    x = {"center": WIDTH / 2, "left": MARGIN}[align]
    bold = req.fonts.pick("latin_bold", rng)
    regular = fonts.load(req.fonts.pick(rng.choice(["latin", "latin_mono"]), rng), rng.choice([28, 30, 32]))
    if rng.random() < 0.3:
        canvas.text((x, y), rng.choice(["Welcome to", "WELCOME TO"]), regular, align=align)
        y += regular.size * 1.4
    store = names["store"]
    label = " ".join(sale.store)
    size = rng.choice([40, 46, 52, 58])
    for line in sale.store:
        rect = canvas.text((x, y), line, canvas.fit_font(bold, line, WIDTH - 2 * MARGIN, size), align=align)
        canvas.label(store, label, rect, printed=label)
        y += size * 1.3
    if sale.store_number:
        canvas.text((x, y), sale.store_number, regular, align=align)
        y += regular.size * 1.4
    if rng.random() < 0.4:
        canvas.text((x, y), sale.slogan, regular, align=align)
        y += regular.size * 1.4
    address = names["address"]
    joined = " ".join(sale.address)
    for line in sale.address:
        rect = canvas.text((x, y), line, regular, align=align)
        canvas.label(address, joined, rect, printed=joined)
        y += regular.size * 1.35
    if "phone" in sale.printed:
        prefix = sale.phone_printed[: len(sale.phone_printed) - len(sale.phone)]
        canvas.runs((x, y), [run(prefix), run(sale.phone, names["phone"])], regular, align=align)
        y += regular.size * 1.35
    return y + regular.size


def _date_time(
    canvas: Canvas, sale: Sale, names: Names, font: fonts.ImageFont.FreeTypeFont, x: float, y: float, rng: random.Random
) -> float:
    style = rng.random()
    if style < 0.5:  # one line: date, time and a transaction number
        tail = rng.choice(["", f" - ID #: {values.digits(rng, 7)}", f"  #{values.digits(rng, 4)}"])
        canvas.runs((x, y), [run(sale.date, names["date"]), run(" "), run(sale.time, names["time"]), run(tail)], font)
    elif style < 0.8:
        canvas.runs((x, y), [run("Date: "), run(sale.date, names["date"])], font)
        canvas.runs((WIDTH - MARGIN, y), [run("Time: "), run(sale.time, names["time"])], font, align="right")
    else:
        canvas.runs((x, y), [run("DATE "), run(sale.date, names["date"])], font)
        y += font.size * 1.4
        canvas.runs((x, y), [run("TIME "), run(sale.time, names["time"])], font)
    return y + font.size * 1.6


def _totals(
    canvas: Canvas,
    sale: Sale,
    names: Names,
    font: fonts.ImageFont.FreeTypeFont,
    bold: fonts.ImageFont.FreeTypeFont,
    y: float,
    key_x: float,
    rng: random.Random,
) -> float:
    rows: list[tuple[str, Decimal, str, fonts.ImageFont.FreeTypeFont]] = []
    if "subtotal" in sale.printed:
        rows.append((sale.subtotal_key, sale.subtotal, "subtotal", font))
    if "tax" in sale.printed:
        rows.append((sale.tax_key, sale.tax, "tax", font))
    if "tip" in sale.printed:
        rows.append((sale.tip_key, sale.tip, "tip", font))
    rows.append((sale.total_key, sale.total, "total", bold))
    symbol = rng.random() < 0.6
    for key, amount, field_id, row_font in rows:
        canvas.text((key_x, y), key, row_font)
        canvas.text(
            (WIDTH - MARGIN, y),
            _money(sale, amount, symbol),
            row_font,
            align="right",
            name=names[field_id],
            value=values.amount_label(amount),
        )
        y += row_font.size * 1.5
    return y


def _payment(canvas: Canvas, sale: Sale, font: fonts.ImageFont.FreeTypeFont, y: float, rng: random.Random) -> float:
    """Payment lines after the totals: the total restated, as receipts do."""
    if rng.random() < 0.5:
        cash = Decimal(int(sale.total) + rng.choice([1, 5, 10]))
        for key, amount in (("Cash", cash), ("Change", cash - sale.total)):
            canvas.text((MARGIN, y), key, font)
            canvas.text((WIDTH - MARGIN, y), _money(sale, amount), font, align="right")
            y += font.size * 1.5
    else:
        card = rng.choice(["VISA", "MasterCard", "AMEX", "Debit"])
        canvas.text((MARGIN, y), f"{card} XXXX XXXX XXXX {values.digits(rng, 4)}", font)
        y += font.size * 1.5
        canvas.text((MARGIN, y), rng.choice(["Payment Amount:", "Amount:", "Tendered"]), font)
        canvas.text((WIDTH - MARGIN, y), _money(sale, sale.total), font, align="right")
        y += font.size * 1.5
    return y


def _absent(canvas: Canvas, rng: random.Random, sale: Sale) -> Canvas:
    """Ask one or two fields the receipt does not print: an optional one it left out, or one no till prints."""
    unprinted = [USER_NAMES[f] for f in ("phone", "subtotal", "tax", "tip") if f not in sale.printed]
    return label_absent(canvas, rng, unprinted + NEVER_PRINTED)


def render_till(req: RenderRequest) -> Canvas:
    """A store till roll: centred header, items with prices right, the totals in two columns."""
    rng = req.rng
    sale = sample(rng)
    names = Names(rng, sale)
    canvas = Canvas(WIDTH, 3000)
    y = _header(canvas, req, sale, names, 60.0, "center")
    font = fonts.load(req.fonts.pick("latin_mono", rng), rng.choice([28, 30]))
    bold = fonts.load(req.fonts.pick("latin_bold", rng), int(font.size) + 2)
    if rng.random() < 0.5:
        canvas.text((MARGIN, y), f"Cashier: {rng.choice(WAITERS)}   Reg {rng.randint(1, 12)}", font)
        y += font.size * 1.5
    y = _date_time(canvas, sale, names, font, MARGIN, y, rng)
    for name, qty, price in sale.items:
        text = f"{qty} {name}" if qty > 1 else name
        canvas.text((MARGIN, y), text, font)
        canvas.text((WIDTH - MARGIN, y), _money(sale, price * qty, False), font, align="right")
        y += font.size * 1.45
    y += font.size * 0.6
    y = _totals(canvas, sale, names, font, bold, y, rng.choice([MARGIN, WIDTH * 0.35]), rng)
    y = _payment(canvas, sale, font, y + font.size * 0.5, rng)
    canvas.text((WIDTH / 2, y + font.size), rng.choice(FOOTERS), font, align="center")
    canvas.crop_height(max(MIN_HEIGHT, int(y + font.size * 4)))
    return _absent(canvas, rng, sale)


def render_check(req: RenderRequest) -> Canvas:
    """A restaurant check: server, table and guests under the header, a tip line, a signature line."""
    rng = req.rng
    sale = sample(rng)
    if rng.random() < 0.3:  # checks print a tip more often than tills (the total then includes it)
        sale.printed.add("tip")
    names = Names(rng, sale)
    canvas = Canvas(WIDTH, 3000)
    y = _header(canvas, req, sale, names, 60.0, "center")
    font = fonts.load(req.fonts.pick(rng.choice(["latin", "latin_mono"]), rng), rng.choice([28, 30]))
    bold = fonts.load(req.fonts.pick("latin_bold", rng), int(font.size))
    canvas.text(
        (WIDTH / 2, y),
        rng.choice(["Table {} Guests {}", "TABLE: {} - {} Guests", "Tbl {}  Cvrs {}"]).format(
            rng.randint(1, 60), rng.randint(1, 8)
        ),
        font,
        align="center",
    )
    y += font.size * 1.4
    canvas.text(
        (WIDTH / 2, y),
        rng.choice(["Server: {}", "Your server today: {}", "Served by {}"]).format(rng.choice(WAITERS)),
        font,
        align="center",
    )
    y += font.size * 1.6
    y = _date_time(canvas, sale, names, font, MARGIN, y, rng)
    for name, qty, price in sale.items:
        canvas.text((MARGIN, y), name, font)
        if qty > 1:
            canvas.text((WIDTH * 0.62, y), f"({qty} @{values.amount_printed(price)})", font, align="right")
        canvas.text((WIDTH - MARGIN, y), _money(sale, price * qty), font, align="right")
        y += font.size * 1.45
    y = _totals(canvas, sale, names, font, bold, y + font.size * 0.5, WIDTH * 0.3, rng)
    y = _payment(canvas, sale, font, y + font.size * 0.5, rng)
    if "tip" not in sale.printed:  # the blank lines a guest fills in
        for key in ("Tip:", "Total:"):
            canvas.text((WIDTH * 0.3, y), key + " " + "_" * 14, font)
            y += font.size * 1.7
    canvas.text(
        (MARGIN, y),
        rng.choice(["Signature: ________________", "Cardholder agrees to pay the total above", "X ______________"]),
        font,
    )
    canvas.crop_height(max(MIN_HEIGHT, int(y + font.size * 4)))
    return _absent(canvas, rng, sale)


def render_pump(req: RenderRequest) -> Canvas:
    """A gas-station or kiosk slip: everything left-aligned, "KEY: value" on one line."""
    rng = req.rng
    sale = sample(rng)
    names = Names(rng, sale)
    canvas = Canvas(WIDTH, 3000)
    y = _header(canvas, req, sale, names, 60.0, "left")
    font = fonts.load(req.fonts.pick("latin_mono", rng), 30)
    canvas.runs(
        (MARGIN, y),
        [run("DATE: "), run(sale.date, names["date"]), run("  TIME: "), run(sale.time, names["time"])],
        font,
    )
    y += font.size * 1.5
    canvas.text((MARGIN, y), f"PUMP # {rng.randint(1, 16)}   TRAN # {values.digits(rng, 6)}", font)
    y += font.size * 2
    for name, qty, price in sale.items:
        canvas.runs((MARGIN, y), [run(f"{name.upper()}: {_money(sale, price * qty)}")], font)
        y += font.size * 1.45
    y += font.size * 0.5
    rows = [("subtotal", sale.subtotal_key, sale.subtotal), ("tax", sale.tax_key, sale.tax),
            ("tip", sale.tip_key, sale.tip), ("total", sale.total_key, sale.total)]  # fmt: skip
    for field_id, key, amount in rows:
        if field_id != "total" and field_id not in sale.printed:
            continue
        canvas.runs(
            (MARGIN, y),
            [
                run(f"{key.rstrip(':').upper()}: "),
                run(_money(sale, amount), names[field_id], values.amount_label(amount)),
            ],
            font,
        )
        y += font.size * 1.5
    y = _payment(canvas, sale, font, y + font.size * 0.5, rng)
    canvas.text((30, y + font.size), rng.choice(FOOTERS), font)
    canvas.crop_height(max(MIN_HEIGHT, int(y + font.size * 4)))
    return _absent(canvas, rng, sale)


KIND = DocKind(
    name="till_receipt",
    template="",  # an open set: each receipt's fields are asked by a user's name for them
    fields=(),
    languages=("en",),
    renderers={
        "till": render_till,
        "check": render_check,
        "pump": render_pump,
    },
    description="English till receipts and restaurant checks (store till, restaurant check, pump slip)",
)
