#!/usr/bin/env python3
"""Generate the catalog service's offline fixtures (invented data, real API shapes).

Writes, relative to the repository root:
  fixtures/catalog/fakestore/{products,users,carts}.json                 bare arrays (GET /products ...)
  fixtures/catalog/jsonplaceholder/{users,posts,comments,albums,photos,todos}.json   bare arrays
  fixtures/catalog/dummyjson/{products,users,carts,posts,comments,todos}.json
      envelopes as `GET /<name>?limit=0` returns: {"<name>": [...], "total": N, "skip": 0, "limit": N}

Deterministic: stdlib only, the only randomness is random.Random(7); re-running rewrites identical
bytes. Run from anywhere:  python3 scripts/gen-catalog-fixtures.py

COVERAGE (the catalog tests rely on every item below; the self-checks at the bottom assert them)
 1. Unified categories, present in BOTH stores:
      electronics     Fake Store "electronics" ids 1,2,3
                      DummyJSON laptops 8,9; smartphones 10,11; tablets 12; mobile-accessories 13,29
      jewelry         Fake Store "jewelery" ids 4,5,6;  DummyJSON womens-jewellery 25,26
      mens-clothing   Fake Store "men's clothing" ids 7,8,9
                      DummyJSON mens-shirts 14,32; mens-shoes 15; mens-watches 16
      womens-clothing Fake Store "women's clothing" ids 10,11,12
                      DummyJSON tops 21,33; womens-bags 23; womens-dresses 24; womens-shoes 27;
                      womens-watches 28
    Unmapped DummyJSON slugs (kept as-is): beauty 1,2; fragrances 3; furniture 4,31; groceries
      5,30,35,36; home-decoration 6; kitchen-accessories 7; motorcycle 17; skin-care 18;
      sports-accessories 19,34; sunglasses 20; vehicle 22.
 2. Counts: Fake Store 12 products (3/category), 6 users (1-6), 7 carts.
    DummyJSON 36 products (> the default page of 30), 6 users (1-6), 6 carts, 12 posts,
      24 comments, 12 todos.
    JSONPlaceholder 6 users (1-6), 12 posts (2/user), 36 comments (3/post), 8 albums,
      120 photos (album 1 holds photos 1-105), 18 todos (3/user).
 3. Users 1-5 everywhere have: posts (JSONPlaceholder 2 each, DummyJSON 2 each), comments on
    those posts, carts (Fake Store carts 1-7 -> users 1,1,2,3,4,5,2; DummyJSON carts 1-6 ->
    users 1,2,3,4,5,3), todos (JSONPlaceholder 3 each, DummyJSON 2 each), albums (JSONPlaceholder
    albums 1-8 -> users 1,2,3,4,5,6,1,2). User 6 has a different name in each source and
    otherwise only the same regular posts/todos/album as everyone else (no carts).
    Every user's name differs between all three sources (see USERS_* tables below).
 4. Inexact float sums:
      DummyJSON cart 1 (userId 1): product 35 price 0.1 x3 = 0.3, product 36 price 0.2 x1 = 0.2,
        product 13 price 19.99 x2 = 39.98; cart total written exactly as 40.48.
        Products 35 and 36 are category groceries with prices 0.1 and 0.2.
      Fake Store cart 1 (userId 1): product 3 (price 0.1) x1 + product 6 (price 0.2) x1
        (0.1 + 0.2 != 0.3 in binary floating point).
 5. Missing cart product: Fake Store cart 7 (userId 2) has a line productId 999 (no such product).
 6. Secrets, in every user of every source, in the real shape:
      Fake Store: password (contains SECRETPW), address.geolocation lat/long (strings, *.424242)
      JSONPlaceholder: address.geo lat/lng (strings, *.424242)
      DummyJSON: password (contains SECRETPW), ssn (starts SSN-), ein (starts EIN-),
        bank (iban contains SECRETIBAN), crypto (wallet contains SECRETWALLET),
        ip (203.0.113.0/24), macAddress (starts 02:00:5e:), userAgent (contains SECRETUA),
        address.coordinates and company.address.coordinates (numbers, *.424242)
 7. Invalid records the validator must drop (each < 10% of its collection):
      DummyJSON product id 34: price -5                                 (1 of 36)
      JSONPlaceholder photo id 120: url "ftp://example.invalid/x.png"   (1 of 120)
      JSONPlaceholder todo id 18: title ""                              (1 of 18)
    No cart references DummyJSON product 34.
 8. Each DummyJSON envelope has total == limit == number of items, skip 0.
 Search: "wireless" (any case) appears only in Fake Store products 1 (title "Wireless ..."),
   2 (description "WIRELESS") and DummyJSON products 13 (title "Wireless ..."),
   29 (description "wireless").
 Real-API quirk kept: DummyJSON groceries products (5, 30, 35, 36) have no "brand" key, exactly as
   the real API omits it for groceries.
"""
import json
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "catalog"
rng = random.Random(7)
D = Decimal
CENT = D("0.01")


def money(x):
    return D(x).quantize(CENT, rounding=ROUND_HALF_UP)


def slug(text):
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def jsonable(v):
    """Decimals become plain JSON numbers (integral -> int, else shortest float repr)."""
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return v


def write(rel, data):
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def coord(whole):
    """A coordinate number whose fraction digits are .424242 (the grep-able secret marker)."""
    return D(f"{'-' if whole < 0 else ''}{abs(whole)}.424242")


# ---------------------------------------------------------------------------------------------
# Users: names differ per source for every id.
# ---------------------------------------------------------------------------------------------
USERS_FAKESTORE = [  # (firstname, lastname, city, street, number, zipcode, phone, geo whole lat/long)
    ("marta", "quill", "ashford", "willow lane", 4127, "30118-2201", "1-555-010-1001", (41, -72)),
    ("oscar", "penhallow", "brookvale", "harbor road", 88, "40427-1193", "1-555-010-1002", (-33, 151)),
    ("lena", "brightwater", "cedar falls", "orchard street", 1502, "50613-7710", "1-555-010-1003", (52, 13)),
    ("felix", "ambrose", "dunmore", "quarry hill", 310, "18512-4408", "1-555-010-1004", (-12, -77)),
    ("nadia", "corrigan", "elmstead", "mill race", 2276, "60126-5932", "1-555-010-1005", (35, 139)),
    ("theo", "vandermeer", "fairhaven", "lighthouse way", 9, "02719-3360", "1-555-010-1006", (64, -21)),
]
USERS_JSONPLACEHOLDER = [  # (name, username, street, suite, city, zipcode, phone, website, company, geo)
    ("Harriet Lindqvist", "hlindqvist", "Birch Terrace", "Apt. 101", "Northbridge", "90210-1101",
     "555-020-2001 x101", "harriet.example.org",
     ("Lindqvist Loom Works", "Threading ideas into durable fabric", "weave scalable supply chains"),
     (58, 11)),
    ("Desmond Okafor", "dokafor", "Copper Row", "Suite 220", "Eastwick", "73301-2202",
     "555-020-2002", "okafor.example.net",
     ("Okafor Solar Cooperative", "Sunlight, shared fairly", "harvest distributed energy"),
     (6, 3)),
    ("Priya Raman", "praman", "Lotus Court", "Apt. 303", "Riverton", "84065-3303",
     "1-555-020-2003", "priya.example.com",
     ("Raman Spice Traders", "Flavor delivered on time", "season cross-border logistics"),
     (13, 80)),
    ("Tobias Wren", "twren", "Falcon Drive", "Suite 404", "Westmarch", "10001-4404",
     "(555) 020-2004", "wren.example.info",
     ("Wren Clockmakers", "Precision you can hear", "synchronize modular mechanisms"),
     (47, 8)),
    ("Celeste Moreau", "cmoreau", "Vine Street", "Apt. 505", "Southport", "33101-5505",
     "555.020.2005", "celeste.example.biz",
     ("Moreau Patisserie Group", "Layers of quiet excellence", "laminate artisanal pipelines"),
     (45, 4)),
    ("Ruben Castellano", "rcastellano", "Olive Grove", "Suite 606", "Highcliff", "60601-6606",
     "555-020-2006 x66", "castellano.example.org",
     ("Castellano Ceramics", "Fired for a lifetime", "glaze vertical marketplaces"),
     (40, -3)),
]
USERS_DUMMYJSON = [  # (first, last, maiden, age, gender, username, birthDate, role)
    ("Ava", "Thornton", "Hale", 31, "female", "avat", "1993-4-12", "admin"),
    ("Marcus", "Bell", "", 42, "male", "marcusb", "1982-11-3", "moderator"),
    ("Ingrid", "Solberg", "Dahl", 27, "female", "ingrids", "1997-7-21", "user"),
    ("Kenji", "Mori", "", 36, "male", "kenjim", "1988-1-9", "user"),
    ("Lucia", "Ferrante", "Russo", 24, "female", "luciaf", "2000-9-30", "user"),
    ("Samuel", "Adeyemi", "", 51, "male", "samuela", "1973-6-15", "moderator"),
]


def fakestore_users():
    out = []
    for i, (first, last, city, street, number, zipcode, phone, (lat, lng)) in enumerate(USERS_FAKESTORE, 1):
        out.append({
            "address": {
                "geolocation": {"lat": str(coord(lat)), "long": str(coord(lng))},
                "city": city,
                "street": street,
                "number": number,
                "zipcode": zipcode,
            },
            "id": i,
            "email": f"{first}.{last}@example.com",
            "username": f"{first[0]}{last}",
            "password": f"{first[:3]}SECRETPW${i}",
            "name": {"firstname": first, "lastname": last},
            "phone": phone,
            "__v": 0,
        })
    return out


def jsonplaceholder_users():
    out = []
    for i, (name, username, street, suite, city, zipcode, phone, website, company, (lat, lng)) in \
            enumerate(USERS_JSONPLACEHOLDER, 1):
        first, last = name.split(" ", 1)
        out.append({
            "id": i,
            "name": name,
            "username": username,
            "email": f"{first}@{last.lower()}.example",
            "address": {
                "street": street,
                "suite": suite,
                "city": city,
                "zipcode": zipcode,
                "geo": {"lat": str(coord(lat)), "lng": str(coord(lng))},
            },
            "phone": phone,
            "website": website,
            "company": {"name": company[0], "catchPhrase": company[1], "bs": company[2]},
        })
    return out


DJ_PLACES = [  # (address, city, state, stateCode, postalCode, whole lat, whole lng)
    ("14 Juniper Street", "Boise", "Idaho", "ID", "83702", 43, -116),
    ("902 Lakeview Avenue", "Madison", "Wisconsin", "WI", "53703", 43, -89),
    ("77 Pine Hollow Road", "Burlington", "Vermont", "VT", "05401", 44, -73),
    ("3150 Mesa Drive", "Tucson", "Arizona", "AZ", "85701", 32, -110),
    ("501 Harbor Boulevard", "Portland", "Maine", "ME", "04101", 43, -70),
    ("1200 Prairie Lane", "Omaha", "Nebraska", "NE", "68102", 41, -96),
]
DJ_COMPANIES = [  # (department, name, title, place index)
    ("Engineering", "Thornton, Vale and Osei", "Platform Engineer", 3),
    ("Marketing", "Bellweather Holdings", "Brand Strategist", 4),
    ("Research and Development", "Solberg Labs", "Research Scientist", 5),
    ("Support", "Mori & Partners", "Support Lead", 0),
    ("Human Resources", "Ferrante Outfitters", "People Partner", 1),
    ("Accounting", "Adeyemi Freight", "Controller", 2),
]
EYE = ["Green", "Brown", "Gray", "Blue", "Hazel", "Amber"]
HAIR = [("Brown", "Curly"), ("Black", "Straight"), ("Blonde", "Wavy"), ("Gray", "Straight"),
        ("Auburn", "Kinky"), ("Black", "Curly")]
BLOOD = ["O-", "A+", "B+", "AB-", "O+", "A-"]
UNIS = ["Northbridge State University", "Eastwick Institute of Technology", "Riverton College",
        "Westmarch University", "Southport Polytechnic", "Highcliff University"]
CARD_TYPES = ["Visa", "Mastercard", "Elo", "Amex", "Discover", "JCB"]
CURRENCIES = ["USD", "EUR", "CNY", "JPY", "GBP", "NGN"]


def dj_address(place):
    a, city, state, code, postal, lat, lng = place
    return {
        "address": a,
        "city": city,
        "state": state,
        "stateCode": code,
        "postalCode": postal,
        "coordinates": {"lat": coord(lat), "lng": coord(lng)},
        "country": "United States",
    }


def dummyjson_users():
    out = []
    for i, (first, last, maiden, age, gender, username, birth, role) in enumerate(USERS_DUMMYJSON, 1):
        dept, cname, ctitle, cplace = DJ_COMPANIES[i - 1]
        out.append({
            "id": i,
            "firstName": first,
            "lastName": last,
            "maidenName": maiden,
            "age": age,
            "gender": gender,
            "email": f"{first.lower()}.{last.lower()}@x.example.com",
            "phone": f"+1 555-030-300{i}",
            "username": username,
            "password": f"{username}SECRETPW{i}",
            "birthDate": birth,
            "image": f"https://dummyjson.com/icon/{username}/128",
            "bloodGroup": BLOOD[i - 1],
            "height": money(150 + rng.uniform(0, 45)),
            "weight": money(50 + rng.uniform(0, 45)),
            "eyeColor": EYE[i - 1],
            "hair": {"color": HAIR[i - 1][0], "type": HAIR[i - 1][1]},
            "ip": f"203.0.113.{10 + i}",
            "address": dj_address(DJ_PLACES[i - 1]),
            "macAddress": f"02:00:5e:{i:02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}",
            "university": UNIS[i - 1],
            "bank": {
                "cardExpire": f"{i:02d}/{27 + i % 3}",
                "cardNumber": "".join(str(rng.randrange(10)) for _ in range(16)),
                "cardType": CARD_TYPES[i - 1],
                "currency": CURRENCIES[i - 1],
                "iban": f"XX{i:02d}SECRETIBAN{rng.randrange(10**8):08d}",
            },
            "company": {
                "department": dept,
                "name": cname,
                "title": ctitle,
                "address": dj_address(DJ_PLACES[cplace]),
            },
            "ein": f"EIN-{100 + i * 7}-{200 + i * 3}",
            "ssn": f"SSN-{900 + i}-{500 + i * 11}-{280 + i}",
            "userAgent": f"Mozilla/5.0 (SECRETUA; X11; Linux x86_64) FixtureBrowser/{i}.0",
            "crypto": {
                "coin": "Bitcoin",
                "wallet": f"0xSECRETWALLET{rng.getrandbits(96):024x}",
                "network": "Ethereum (ERC20)",
            },
            "role": role,
        })
    return out


# ---------------------------------------------------------------------------------------------
# Fake Store
# ---------------------------------------------------------------------------------------------
FS_PRODUCTS = [  # (title, price, category, description)
    ("Wireless Noise-cancelling Headphones", "89.95", "electronics",
     "Over-ear headphones with active noise cancelling, Bluetooth pairing and a 30-hour battery."),
    ("Pocket Bluetooth Speaker", "34.5", "electronics",
     "A palm-sized speaker that streams music over a WIRELESS link and survives a splash."),
    ("Screen Cleaning Wipe", "0.1", "electronics",
     "A single lint-free microfibre wipe for phone, tablet and laptop screens."),
    ("Sterling Silver Hoop Earrings", "24.5", "jewelery",
     "Lightweight polished hoops in solid sterling silver with a secure hinged clasp."),
    ("Rose Gold Pendant Necklace", "168.5", "jewelery",
     "A rose gold plated teardrop pendant on an adjustable 45 cm chain."),
    ("Jewelry Polishing Cloth", "0.2", "jewelery",
     "A small treated cloth that brings back the shine on silver and gold pieces."),
    ("Slim Fit Oxford Shirt", "29.95", "men's clothing",
     "A button-down oxford shirt in breathable cotton with a tailored slim cut."),
    ("Waxed Cotton Field Jacket", "119.99", "men's clothing",
     "A weatherproof waxed jacket with four cargo pockets and a corduroy collar."),
    ("Merino Crew Socks", "12.49", "men's clothing",
     "Cushioned merino wool socks that stay warm and dry on long walks."),
    ("Linen Wrap Dress", "54.9", "women's clothing",
     "A midi-length wrap dress in washed linen with a self-tie waist."),
    ("Quilted Puffer Vest", "64.75", "women's clothing",
     "A packable quilted vest with recycled insulation and zip hand pockets."),
    ("Ribbed Knit Cardigan", "39.99", "women's clothing",
     "A relaxed ribbed cardigan in a soft cotton blend with horn-look buttons."),
]


def fakestore_products():
    out = []
    for i, (title, price, category, desc) in enumerate(FS_PRODUCTS, 1):
        out.append({
            "id": i,
            "title": title,
            "price": D(price),
            "description": desc,
            "category": category,
            "image": f"https://fakestoreapi.com/img/{slug(title)}.jpg",
            "rating": {"rate": round(rng.uniform(2.0, 5.0), 1), "count": rng.randrange(20, 500)},
        })
    return out


FS_CARTS = [  # (userId, date, [(productId, quantity)])
    (1, "2020-03-02", [(3, 1), (6, 1)]),
    (1, "2020-01-02", [(1, 2), (7, 1)]),
    (2, "2020-03-01", [(2, 1), (10, 3)]),
    (3, "2020-01-01", [(4, 1), (8, 2), (11, 1)]),
    (4, "2020-03-01", [(5, 1), (12, 2)]),
    (5, "2020-03-02", [(9, 1), (1, 1)]),
    (2, "2020-03-03", [(11, 1), (999, 2)]),
]


def fakestore_carts():
    return [{
        "id": i,
        "userId": user,
        "date": f"{date}T00:00:00.000Z",
        "products": [{"productId": p, "quantity": q} for p, q in lines],
        "__v": 0,
    } for i, (user, date, lines) in enumerate(FS_CARTS, 1)]


# ---------------------------------------------------------------------------------------------
# DummyJSON
# ---------------------------------------------------------------------------------------------
DJ_PRODUCTS = [  # (title, category, price, brand or None, tags, description)
    ("Velvet Matte Lipstick", "beauty", "12.99", "Lumen Cosmetics", ["beauty", "lipstick"],
     "A creamy matte lipstick that stays put through coffee and conversation."),
    ("Hydrating Face Mist", "beauty", "9.99", "Lumen Cosmetics", ["beauty", "face mist"],
     "A refreshing rosewater mist that sets makeup and revives tired skin."),
    ("Cedar and Amber Eau de Parfum", "fragrances", "64.99", "Maison Verre", ["fragrances", "perfumes"],
     "A warm woody fragrance with notes of cedar, amber and a hint of black pepper."),
    ("Oak Bedside Table", "furniture", "149.99", "Northwood", ["furniture", "bedroom"],
     "A solid oak bedside table with one soft-close drawer and an open shelf."),
    ("Rolled Oats 1kg", "groceries", "3.49", None, ["cereals"],
     "Whole grain rolled oats for porridge, baking and overnight oats."),
    ("Ceramic Table Vase", "home-decoration", "27.5", "Claystone", ["home decor", "vases"],
     "A hand-glazed ceramic vase in speckled sand, sized for a small bouquet."),
    ("Cast Iron Skillet", "kitchen-accessories", "34.99", "Forge and Hearth", ["kitchen", "cookware"],
     "A pre-seasoned 26 cm cast iron skillet that goes from hob to oven."),
    ("Ultralight 14-inch Laptop", "laptops", "1099.99", "Nimbus", ["laptops", "ultrabook"],
     "A 1.1 kg laptop with a bright 14-inch display and all-day battery life."),
    ("Creator 16 Laptop", "laptops", "1749.99", "Vertex", ["laptops", "creator"],
     "A 16-inch laptop with a colour-accurate screen for photo and video editing."),
    ("Pixelline 8 Smartphone", "smartphones", "699.99", "Pixelline", ["smartphones", "android"],
     "A 6.2-inch smartphone with a dual camera and seven years of updates."),
    ("Orbit Mini Smartphone", "smartphones", "449.5", "Orbit", ["smartphones", "compact"],
     "A compact one-handed smartphone with a 5.4-inch display."),
    ("Slate 11 Tablet", "tablets", "379.99", "Slate", ["tablets"],
     "An 11-inch tablet with a stylus slot and a 120 Hz display."),
    ("Wireless Charging Pad", "mobile-accessories", "19.99", "Voltaic", ["mobile accessories", "chargers"],
     "A slim 15 W charging pad with a non-slip base and a soft status light."),
    ("Chambray Work Shirt", "mens-shirts", "39.95", "Harbor Thread", ["clothing", "men's shirts"],
     "A sturdy chambray shirt with double chest pockets and reinforced seams."),
    ("Trail Running Shoe", "mens-shoes", "89.99", "Ridgeline", ["footwear", "running shoes"],
     "A grippy trail shoe with a rock plate and a quick-lace system."),
    ("Field Chronograph Watch", "mens-watches", "229.99", "Meridian", ["watches", "men's watches"],
     "A 40 mm chronograph with a sapphire crystal and a canvas strap."),
    ("Cafe Racer 250 Motorcycle", "motorcycle", "3999.99", "Strada", ["motorcycle"],
     "A light 250 cc cafe racer with a low seat, ideal for city riding."),
    ("Ceramide Night Cream", "skin-care", "24.99", "Dermalis", ["skin care", "moisturizer"],
     "A rich overnight cream with ceramides to restore the skin barrier."),
    ("Cork Yoga Block", "sports-accessories", "14.99", "Flowfit", ["sports", "yoga"],
     "A dense natural cork block for support in standing and seated poses."),
    ("Polarized Aviator Sunglasses", "sunglasses", "59.99", "Solace", ["sunglasses"],
     "Classic aviators with polarized lenses and a lightweight metal frame."),
    ("Cropped Linen Top", "tops", "22.49", "Juniper Lane", ["tops", "women's clothing"],
     "A boxy cropped top in breathable linen with a square neckline."),
    ("Compact City Hatchback", "vehicle", "18999.99", "Avenia", ["vehicle", "cars"],
     "A five-door hatchback with a frugal hybrid engine and a tight turning circle."),
    ("Leather Crossbody Bag", "womens-bags", "79.99", "Marlowe", ["bags", "women's bags"],
     "A structured crossbody bag in full-grain leather with an adjustable strap."),
    ("Floral Midi Dress", "womens-dresses", "64.5", "Juniper Lane", ["dresses", "women's clothing"],
     "A flowing midi dress in a small floral print with flutter sleeves."),
    ("Pearl Drop Earrings", "womens-jewellery", "45.99", "Luna and Pearl", ["jewellery", "earrings"],
     "Freshwater pearl drops on gold-filled hooks, boxed for gifting."),
    ("Gold Charm Bracelet", "womens-jewellery", "129.99", "Luna and Pearl", ["jewellery", "bracelets"],
     "A fine gold chain bracelet carrying three engraved charms."),
    ("Block Heel Ankle Boot", "womens-shoes", "94.99", "Marlowe", ["footwear", "women's shoes"],
     "A suede ankle boot on a stable 5 cm block heel with a side zip."),
    ("Minimalist Mesh Watch", "womens-watches", "119.5", "Meridian", ["watches", "women's watches"],
     "A slim 32 mm watch with a clean dial and a stainless mesh bracelet."),
    ("Sport Earbuds", "mobile-accessories", "49.99", "Voltaic", ["mobile accessories", "audio"],
     "True wireless earbuds with ear hooks, sweat resistance and a pocket case."),
    ("Wildflower Honey 500g", "groceries", "7.25", None, ["condiments"],
     "Raw wildflower honey from small apiaries, gently strained."),
    ("Rattan Accent Chair", "furniture", "259.99", "Northwood", ["furniture", "living room"],
     "A hand-woven rattan lounge chair with a washable seat cushion."),
    ("Flannel Overshirt", "mens-shirts", "44.99", "Harbor Thread", ["clothing", "men's shirts"],
     "A heavyweight brushed flannel overshirt in a muted check."),
    ("Ribbed Tank Top", "tops", "15.99", "Juniper Lane", ["tops", "women's clothing"],
     "A close-fitting ribbed tank in stretch organic cotton."),
    ("Resistance Band Set", "sports-accessories", "-5", "Flowfit", ["sports", "fitness"],
     "Five latex-free resistance bands from extra light to heavy."),  # INVALID: negative price
    ("Sea Salt Sachet", "groceries", "0.1", None, ["condiments"],
     "A single-serve sachet of flaky sea salt."),
    ("Single Tea Bag", "groceries", "0.2", None, ["beverages"],
     "One individually wrapped breakfast tea bag."),
]
REVIEWERS = ["Nolan Price", "Greta Holm", "Iris Calder", "Jonah Pike", "Mila Ortega", "Rafael Stone",
             "Yara Lund", "Owen Marsh", "Tessa Quinn", "Hugo Lark"]
COMMENTS = [(1, "Fell apart quickly."), (2, "Not as described."), (3, "It is fine."),
            (4, "Good value for money."), (4, "Would buy again."), (5, "Excellent quality."),
            (5, "Exactly what I needed.")]
WARRANTY = ["1 week warranty", "1 month warranty", "6 months warranty", "1 year warranty",
            "2 year warranty", "Lifetime warranty", "No warranty"]
SHIPPING = ["Ships overnight", "Ships in 1-2 business days", "Ships in 3-5 business days",
            "Ships in 1 week", "Ships in 2 weeks", "Ships in 1 month"]
RETURNS = ["No return policy", "7 days return policy", "30 days return policy",
           "60 days return policy", "90 days return policy"]
STAMP = "2024-05-23T08:56:21.618Z"


def dummyjson_products():
    out = []
    for i, (title, cat, price, brand, tags, desc) in enumerate(DJ_PRODUCTS, 1):
        base = f"https://cdn.dummyjson.com/products/images/{cat}/{slug(title)}"
        stock = rng.randrange(0, 120)
        status = "Out of Stock" if stock == 0 else "Low Stock" if stock < 10 else "In Stock"
        reviews = []
        for _ in range(1 + i % 3):
            who = rng.choice(REVIEWERS)
            stars, comment = rng.choice(COMMENTS)
            reviews.append({
                "rating": stars,
                "comment": comment,
                "date": STAMP,
                "reviewerName": who,
                "reviewerEmail": who.lower().replace(" ", ".") + "@x.example.com",
            })
        p = {
            "id": i,
            "title": title,
            "description": desc,
            "category": cat,
            "price": D(price),
            "discountPercentage": money(rng.uniform(0.5, 20)),
            "rating": money(rng.uniform(2.5, 5)),
            "stock": stock,
            "tags": tags,
        }
        if brand is not None:  # real DummyJSON omits "brand" on groceries
            p["brand"] = brand
        p.update({
            "sku": f"{cat[:3].upper()}-{(brand or 'GEN')[:3].upper()}-{slug(title)[:3].upper()}-{i:03d}",
            "weight": rng.randrange(1, 11),
            "dimensions": {"width": money(rng.uniform(5, 30)), "height": money(rng.uniform(5, 30)),
                           "depth": money(rng.uniform(5, 30))},
            "warrantyInformation": rng.choice(WARRANTY),
            "shippingInformation": rng.choice(SHIPPING),
            "availabilityStatus": status,
            "reviews": reviews,
            "returnPolicy": rng.choice(RETURNS),
            "minimumOrderQuantity": rng.randrange(1, 6),
            "meta": {
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "barcode": "".join(str(rng.randrange(10)) for _ in range(13)),
                "qrCode": "https://assets.dummyjson.com/public/qr-code.png",
            },
            "images": [f"{base}/{n}.png" for n in range(1, 2 + i % 3)],
            "thumbnail": f"{base}/thumbnail.png",
        })
        out.append(p)
    return out


DJ_CARTS = [  # (userId, [(productId, quantity)])
    (1, [(35, 3), (36, 1), (13, 2)]),
    (2, [(8, 1), (14, 2)]),
    (3, [(25, 1), (5, 4), (20, 1)]),
    (4, [(10, 1), (24, 2)]),
    (5, [(15, 1), (30, 3), (1, 2)]),
    (3, [(28, 1), (19, 2)]),
]


def dummyjson_carts(products):
    by_id = {p["id"]: p for p in products}
    out = []
    for i, (user, lines) in enumerate(DJ_CARTS, 1):
        items = []
        for pid, qty in lines:
            p = by_id[pid]
            total = money(p["price"] * qty)
            items.append({
                "id": pid,
                "title": p["title"],
                "price": p["price"],
                "quantity": qty,
                "total": total,
                "discountPercentage": p["discountPercentage"],
                "discountedTotal": money(total * (100 - p["discountPercentage"]) / 100),
                "thumbnail": p["thumbnail"],
            })
        out.append({
            "id": i,
            "products": items,
            "total": sum((x["total"] for x in items), D(0)),
            "discountedTotal": sum((x["discountedTotal"] for x in items), D(0)),
            "userId": user,
            "totalProducts": len(items),
            "totalQuantity": sum(x["quantity"] for x in items),
        })
    return out


DJ_POSTS = [  # (title, body, tags); post n belongs to user (n+1)//2
    ("The lighthouse keeper's last winter", "Snow closed the harbour road and the keeper kept "
     "the lamp burning for a town that had stopped watching.", ["history", "classic"]),
    ("Notes from a night train", "Somewhere past midnight the carriage went quiet and every "
     "stranger became a neighbour for a few hours.", ["fiction", "travel"]),
    ("How the bridge was almost built twice", "The first plans were lost in a flood, and the "
     "second set nearly repeated every mistake of the first.", ["history", "engineering"]),
    ("A garden that survived the drought", "Mulch, shade cloth and a stubborn neighbour kept "
     "the tomatoes alive through the hottest August on record.", ["nature", "gardening"]),
    ("The case of the missing violin", "The instrument vanished during the interval and "
     "reappeared, freshly tuned, in the conductor's coat.", ["mystery", "crime"]),
    ("Learning to bake bread at forty", "Three flat loaves, one brick and finally a crust "
     "that crackled as it cooled on the rack.", ["food", "life"]),
    ("Maps drawn from memory", "Ask five people to sketch their street and you get five "
     "different towns, each one true in its own way.", ["culture", "maps"]),
    ("Why the old mill still turns", "Volunteers replace a paddle every spring so the wheel "
     "can keep grinding flour for the village fair.", ["history", "community"]),
    ("Letters that arrived fifty years late", "A sack of undelivered mail turned up behind "
     "a wall, and the postmaster decided to finish the job.", ["history", "love"]),
    ("Counting birds on a rainy morning", "Forty minutes, one notebook and a heron that "
     "refused to be counted more than once.", ["nature", "birds"]),
    ("The chess club in the back of the bakery", "Every Tuesday the ovens cool down and the "
     "boards come out, with croissants as the only stakes.", ["games", "community"]),
    ("A short history of the umbrella", "From palace parasols to pocket folders, the "
     "umbrella has always been a small portable roof.", ["history", "design"]),
]
DJ_COMMENT_BODIES = [
    "This made my morning.", "I never knew that, thanks for writing it up.",
    "Beautifully told.", "My grandmother used to say the same thing.",
    "Saving this to read again later.", "The ending surprised me.",
    "Could you write a follow-up?", "Great detail, I felt like I was there.",
]
DJ_TODOS = [
    "Water the balcony plants", "Book a dentist appointment", "Return the library books",
    "Call an old friend to catch up", "Clean out the garage shelf", "Plan a weekend picnic",
    "Back up the family photos", "Learn three new recipes", "Repair the squeaky door hinge",
    "Write a thank-you note", "Donate clothes that no longer fit", "Go for an evening walk",
]


def dummyjson_posts():
    return [{
        "id": i,
        "title": t,
        "body": b,
        "tags": tags,
        "reactions": {"likes": rng.randrange(0, 300), "dislikes": rng.randrange(0, 40)},
        "views": rng.randrange(50, 5000),
        "userId": (i + 1) // 2,
    } for i, (t, b, tags) in enumerate(DJ_POSTS, 1)]


def dummyjson_comments(users):
    out = []
    for i in range(1, 25):
        post = (i + 1) // 2
        author = (post + 1) // 2
        commenter = users[(author + (i % 2)) % len(users)]  # never the post's author
        assert commenter["id"] != author
        out.append({
            "id": i,
            "body": DJ_COMMENT_BODIES[(i - 1) % len(DJ_COMMENT_BODIES)],
            "postId": post,
            "likes": rng.randrange(0, 20),
            "user": {"id": commenter["id"], "username": commenter["username"],
                     "fullName": f"{commenter['firstName']} {commenter['lastName']}"},
        })
    return out


def dummyjson_todos():
    return [{"id": i, "todo": t, "completed": i % 3 == 0, "userId": (i + 1) // 2}
            for i, t in enumerate(DJ_TODOS, 1)]


# ---------------------------------------------------------------------------------------------
# JSONPlaceholder
# ---------------------------------------------------------------------------------------------
JP_POSTS = [  # post n belongs to user (n+1)//2
    ("packing for a rainy coastal walk", "waterproofs first\nthen a flask of tea\nand a map that folds back properly"),
    ("the best bench in the park", "it faces west\nit gets the last of the sun\nand nobody else seems to know"),
    ("fixing a bicycle chain by the roadside", "a spare link\na patient friend\nand oil all the way to the elbows"),
    ("a week without a phone", "the first day was loud\nthe third day was calm\nthe seventh day felt very long"),
    ("starting a sourdough starter", "flour and water\na warm shelf\nand feeding it like a small pet"),
    ("why we moved the desk to the window", "better light\nfewer headaches\nand a view of the neighbour's cat"),
    ("learning to read sheet music", "every good boy does fine\nand every adult learner needs patience"),
    ("the tram line that never opened", "the rails are still there\nhalf buried under the high street"),
    ("notes on a cheap telescope", "the moon is easy\nsaturn is a tiny miracle\nthe rest is mostly waiting"),
    ("an honest review of my own cooking", "too much garlic\nnot enough salt\nbut everyone asked for seconds"),
    ("keeping bees on a city roof", "the neighbours were nervous\nuntil the first jar of honey arrived"),
    ("a walk around the old docks", "cranes without ships\nwarehouses turned into flats\nand gulls that own the place"),
]
JP_COMMENT_NAMES = ["lovely read", "this brought back memories", "had the same experience",
                    "thanks for sharing", "great tip", "not sure I agree"]
JP_ALBUMS = ["summer on the coast", "kitchen experiments", "city rooftops", "autumn hikes",
             "family reunion", "street markets", "night sky", "garden progress"]
JP_ALBUM_USERS = [1, 2, 3, 4, 5, 6, 1, 2]
JP_TODOS = [
    "buy stamps", "sort the recycling", "renew the bus pass",
    "oil the bike chain", "print the boarding passes", "defrost the freezer",
    "repot the fern", "check the smoke alarm", "label the spice jars",
    "reply to the landlord", "fix the wobbly chair", "order new printer ink",
    "wash the car", "clear the gutters", "sharpen the kitchen knives",
    "plan the reading list", "tidy the bookshelf",
    "",  # id 18: INVALID, empty title
]
PHOTO_SUBJECTS = ["harbour", "lantern", "meadow", "staircase", "bridge", "orchard", "window",
                  "market", "cliff", "fountain", "alley", "greenhouse", "pier", "chimney", "tram"]
PHOTO_MOODS = ["at dawn", "in the rain", "after dusk", "at noon", "in fog", "under snow", "in spring"]


def jsonplaceholder_posts():
    return [{"userId": (i + 1) // 2, "id": i, "title": t, "body": b}
            for i, (t, b) in enumerate(JP_POSTS, 1)]


def jsonplaceholder_comments(users):
    out = []
    for i in range(1, 37):
        post = (i + 2) // 3
        author = (post + 1) // 2
        commenter = users[(author + (i % 3)) % len(users)]
        name = commenter["name"].split(" ")[0]
        out.append({
            "postId": post,
            "id": i,
            "name": JP_COMMENT_NAMES[(i - 1) % len(JP_COMMENT_NAMES)],
            "email": f"{name}.{post}.{i}@readers.example",
            "body": f"comment {i} on post {post}\nreally enjoyed this one\nlooking forward to the next",
        })
    return out


def jsonplaceholder_albums():
    return [{"userId": u, "id": i, "title": t}
            for i, (u, t) in enumerate(zip(JP_ALBUM_USERS, JP_ALBUMS), 1)]


def jsonplaceholder_photos():
    out = []
    for i in range(1, 121):
        # photos 1-105 -> album 1; 106-120 -> albums 2..8 (two each, album 8 gets three)
        album = 1 if i <= 105 else min(2 + (i - 106) // 2, 8)
        color = f"{rng.getrandbits(24):06x}"
        title = f"{PHOTO_SUBJECTS[(i - 1) % len(PHOTO_SUBJECTS)]} " \
                f"{PHOTO_MOODS[(i - 1) // len(PHOTO_SUBJECTS) % len(PHOTO_MOODS)]} no. {i}"
        url = f"https://via.placeholder.com/600/{color}"
        if i == 120:
            url = "ftp://example.invalid/x.png"  # INVALID: non-https url
        out.append({"albumId": album, "id": i, "title": title, "url": url,
                    "thumbnailUrl": f"https://via.placeholder.com/150/{color}"})
    return out


def jsonplaceholder_todos():
    return [{"userId": (i + 2) // 3, "id": i, "title": t, "completed": i % 2 == 0}
            for i, t in enumerate(JP_TODOS, 1)]


def envelope(name, items):
    return {name: items, "total": len(items), "skip": 0, "limit": len(items)}


# ---------------------------------------------------------------------------------------------
def main():
    fs_users, jp_users, dj_users = fakestore_users(), jsonplaceholder_users(), dummyjson_users()
    fs_products, fs_carts = fakestore_products(), fakestore_carts()
    dj_products = dummyjson_products()
    dj_carts = dummyjson_carts(dj_products)
    dj_posts, dj_comments, dj_todos = dummyjson_posts(), dummyjson_comments(dj_users), dummyjson_todos()
    jp_posts, jp_comments = jsonplaceholder_posts(), jsonplaceholder_comments(jp_users)
    jp_albums, jp_photos, jp_todos = jsonplaceholder_albums(), jsonplaceholder_photos(), jsonplaceholder_todos()

    check(locals())

    files = {
        "fakestore/products.json": fs_products,
        "fakestore/users.json": fs_users,
        "fakestore/carts.json": fs_carts,
        "jsonplaceholder/users.json": jp_users,
        "jsonplaceholder/posts.json": jp_posts,
        "jsonplaceholder/comments.json": jp_comments,
        "jsonplaceholder/albums.json": jp_albums,
        "jsonplaceholder/photos.json": jp_photos,
        "jsonplaceholder/todos.json": jp_todos,
        "dummyjson/products.json": envelope("products", dj_products),
        "dummyjson/users.json": envelope("users", dj_users),
        "dummyjson/carts.json": envelope("carts", dj_carts),
        "dummyjson/posts.json": envelope("posts", dj_posts),
        "dummyjson/comments.json": envelope("comments", dj_comments),
        "dummyjson/todos.json": envelope("todos", dj_todos),
    }
    for rel, data in files.items():
        path = write(rel, data)
        n = len(data) if isinstance(data, list) else data["total"]
        print(f"{path.relative_to(ROOT)}: {n}")


def check(c):
    """Self-checks for the coverage promised in the module docstring."""
    ids = lambda xs: [x["id"] for x in xs]  # noqa: E731
    # 2. counts
    for key, n in [("fs_products", 12), ("fs_users", 6), ("fs_carts", 7), ("dj_products", 36),
                   ("dj_users", 6), ("dj_carts", 6), ("dj_posts", 12), ("dj_comments", 24),
                   ("dj_todos", 12), ("jp_users", 6), ("jp_posts", 12), ("jp_comments", 36),
                   ("jp_albums", 8), ("jp_photos", 120), ("jp_todos", 18)]:
        assert len(c[key]) == n, key
        assert ids(c[key]) == list(range(1, n + 1)), key
    assert sum(p["albumId"] == 1 for p in c["jp_photos"]) >= 105
    # 1. categories
    fs_cats = [p["category"] for p in c["fs_products"]]
    for cat in ["electronics", "jewelery", "men's clothing", "women's clothing"]:
        assert fs_cats.count(cat) == 3
    allowed = {"beauty", "fragrances", "furniture", "groceries", "home-decoration",
               "kitchen-accessories", "laptops", "mens-shirts", "mens-shoes", "mens-watches",
               "mobile-accessories", "motorcycle", "skin-care", "smartphones", "sports-accessories",
               "sunglasses", "tablets", "tops", "vehicle", "womens-bags", "womens-dresses",
               "womens-jewellery", "womens-shoes", "womens-watches"}
    assert {p["category"] for p in c["dj_products"]} == allowed  # every slug appears
    # 3. per-user relations
    for u in range(1, 6):
        for key, field in [("jp_posts", "userId"), ("dj_posts", "userId"), ("fs_carts", "userId"),
                           ("dj_carts", "userId"), ("jp_todos", "userId"), ("dj_todos", "userId"),
                           ("jp_albums", "userId")]:
            assert any(x[field] == u for x in c[key]), (key, u)
        jp_post_ids = {p["id"] for p in c["jp_posts"] if p["userId"] == u}
        dj_post_ids = {p["id"] for p in c["dj_posts"] if p["userId"] == u}
        assert any(x["postId"] in jp_post_ids for x in c["jp_comments"])
        assert any(x["postId"] in dj_post_ids for x in c["dj_comments"])
    for n in range(6):
        fs = c["fs_users"][n]["name"]
        names = {f"{fs['firstname']} {fs['lastname']}".lower(), c["jp_users"][n]["name"].lower(),
                 f"{c['dj_users'][n]['firstName']} {c['dj_users'][n]['lastName']}".lower()}
        assert len(names) == 3
    dj_user_ids = set(ids(c["dj_users"]))
    assert all(x["user"]["id"] in dj_user_ids for x in c["dj_comments"])
    # 4. float sums
    cart1 = c["dj_carts"][0]
    assert cart1["userId"] == 1 and cart1["total"] == D("40.48")
    assert [(x["id"], x["price"], x["quantity"], x["total"]) for x in cart1["products"]] == \
        [(35, D("0.1"), 3, D("0.3")), (36, D("0.2"), 1, D("0.2")), (13, D("19.99"), 2, D("39.98"))]
    dj_by_id = {p["id"]: p for p in c["dj_products"]}
    for cart in c["dj_carts"]:
        assert cart["total"] == sum(x["total"] for x in cart["products"])
        for x in cart["products"]:
            assert x["id"] != 34 and x["price"] == dj_by_id[x["id"]]["price"]
            assert x["total"] == money(x["price"] * x["quantity"])
    assert dj_by_id[35]["category"] == dj_by_id[36]["category"] == "groceries"
    fs_by_id = {p["id"]: p for p in c["fs_products"]}
    fs1 = c["fs_carts"][0]
    assert fs1["userId"] == 1
    assert sorted(float(fs_by_id[x["productId"]]["price"]) for x in fs1["products"]) == [0.1, 0.2]
    assert 0.1 + 0.2 != 0.3
    # 5. missing product
    fs7 = c["fs_carts"][6]
    assert fs7["userId"] == 2 and any(x["productId"] == 999 for x in fs7["products"])
    assert 999 not in fs_by_id
    for cart in c["fs_carts"][:6]:
        assert all(x["productId"] in fs_by_id for x in cart["products"])
    # 6. secrets
    for u in c["fs_users"]:
        assert "SECRETPW" in u["password"]
        assert all(v.endswith(".424242") for v in u["address"]["geolocation"].values())
    for u in c["jp_users"]:
        assert all(v.endswith(".424242") for v in u["address"]["geo"].values())
    for u in c["dj_users"]:
        assert "SECRETPW" in u["password"] and u["ssn"].startswith("SSN-") and u["ein"].startswith("EIN-")
        assert "SECRETIBAN" in u["bank"]["iban"] and "SECRETWALLET" in u["crypto"]["wallet"]
        assert u["ip"].startswith("203.0.113.") and u["macAddress"].startswith("02:00:5e:")
        assert "SECRETUA" in u["userAgent"]
        for coords in (u["address"]["coordinates"], u["company"]["address"]["coordinates"]):
            assert all(repr(float(v)).endswith(".424242") for v in coords.values())
    # 7. invalid records (and nothing else invalid)
    assert [p["id"] for p in c["dj_products"] if p["price"] <= 0] == [34]
    assert [p["id"] for p in c["fs_products"] if p["price"] <= 0] == []
    bad_photos = [p["id"] for p in c["jp_photos"]
                  if not (p["url"].startswith("https://") and p["thumbnailUrl"].startswith("https://"))]
    assert bad_photos == [120]
    assert [t["id"] for t in c["jp_todos"] if not t["title"]] == [18]
    for p in c["fs_products"] + c["dj_products"]:
        assert p["price"] == money(p["price"]) or p["price"].as_tuple().exponent >= -2
        assert (p.get("image") or p["thumbnail"]).startswith("https://")
    # distinct titles across both stores; "wireless" placement
    titles = [p["title"].lower() for p in c["fs_products"] + c["dj_products"]]
    assert len(set(titles)) == len(titles)
    hits = [("fs", p["id"]) for p in c["fs_products"] if "wireless" in (p["title"] + p["description"]).lower()]
    hits += [("dj", p["id"]) for p in c["dj_products"] if "wireless" in (p["title"] + p["description"]).lower()]
    assert hits == [("fs", 1), ("fs", 2), ("dj", 13), ("dj", 29)], hits


if __name__ == "__main__":
    main()
