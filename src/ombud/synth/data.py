"""Static reference data for the synthetic retailer: states, area codes, street types, nicknames, products.

Everything here is public general knowledge (USPS abbreviations, approximate state populations, common
English nicknames); nothing describes a real person.
"""

from __future__ import annotations

#: state -> (approximate population in millions, a few of its area codes). Weights where people live.
STATES: dict[str, tuple[float, tuple[int, ...]]] = {
    "AL": (5.0, (205, 251, 256, 334)), "AK": (0.7, (907,)), "AZ": (7.2, (480, 520, 602, 623)),
    "AR": (3.0, (479, 501, 870)), "CA": (39.5, (213, 310, 415, 510, 619, 626, 714, 818, 909, 916)),
    "CO": (5.8, (303, 719, 720, 970)), "CT": (3.6, (203, 860)), "DE": (1.0, (302,)), "DC": (0.7, (202,)),
    "FL": (21.5, (305, 321, 407, 561, 727, 813, 904, 954)), "GA": (10.7, (404, 470, 678, 706, 770, 912)),
    "HI": (1.5, (808,)), "ID": (1.8, (208,)), "IL": (12.8, (217, 312, 630, 708, 773, 847)),
    "IN": (6.8, (219, 317, 574, 812)), "IA": (3.2, (319, 515, 563)), "KS": (2.9, (316, 785, 913)),
    "KY": (4.5, (270, 502, 606, 859)), "LA": (4.7, (225, 318, 504, 985)), "ME": (1.4, (207,)),
    "MD": (6.2, (240, 301, 410, 443)), "MA": (7.0, (413, 508, 617, 781, 978)),
    "MI": (10.1, (248, 313, 517, 616, 734)), "MN": (5.7, (218, 507, 612, 651, 952)),
    "MS": (3.0, (228, 601, 662)), "MO": (6.2, (314, 417, 573, 816)), "MT": (1.1, (406,)),
    "NE": (2.0, (308, 402)), "NV": (3.1, (702, 775)), "NH": (1.4, (603,)),
    "NJ": (9.3, (201, 609, 732, 856, 908, 973)), "NM": (2.1, (505, 575)),
    "NY": (20.2, (212, 315, 516, 518, 585, 631, 716, 718, 914)),
    "NC": (10.4, (252, 336, 704, 828, 910, 919)), "ND": (0.8, (701,)),
    "OH": (11.8, (216, 330, 419, 513, 614, 937)), "OK": (4.0, (405, 580, 918)), "OR": (4.2, (503, 541, 971)),
    "PA": (13.0, (215, 412, 570, 610, 717, 814)), "RI": (1.1, (401,)), "SC": (5.1, (803, 843, 864)),
    "SD": (0.9, (605,)), "TN": (6.9, (423, 615, 731, 865, 901)),
    "TX": (29.1, (210, 214, 281, 512, 713, 817, 915, 972)), "UT": (3.3, (385, 435, 801)), "VT": (0.6, (802,)),
    "VA": (8.6, (276, 434, 540, 703, 757, 804)), "WA": (7.7, (206, 253, 360, 425, 509)), "WV": (1.8, (304,)),
    "WI": (5.9, (262, 414, 608, 715, 920)), "WY": (0.6, (307,)),
}

#: Street types people use, with how often, and the USPS standard abbreviation.
STREET_TYPES: tuple[tuple[str, str, int], ...] = (
    ("Street", "St", 30), ("Avenue", "Ave", 16), ("Road", "Rd", 10), ("Drive", "Dr", 12), ("Lane", "Ln", 8),
    ("Court", "Ct", 6), ("Boulevard", "Blvd", 3), ("Place", "Pl", 4), ("Way", "Way", 4), ("Circle", "Cir", 3),
    ("Terrace", "Ter", 2), ("Parkway", "Pkwy", 2), ("Trail", "Trl", 2), ("Highway", "Hwy", 1), ("Square", "Sq", 1),
)
STREET_ABBREV: dict[str, str] = {full: abbr for full, abbr, _ in STREET_TYPES}

DIRECTIONALS: tuple[tuple[str, str], ...] = (("North", "N"), ("South", "S"), ("East", "E"), ("West", "W"))

#: Ways of writing an apartment or unit: the designator before the number ("" means "#" glued on).
UNIT_FORMS: tuple[str, ...] = ("Apt", "Apt.", "#", "Unit", "Apartment", "APT", "Ste")

#: Canonical given name -> nicknames commonly used for it (a person may go by any of them).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"), "William": ("Bill", "Will", "Billy", "Liam"),
    "Richard": ("Rick", "Dick", "Rich", "Ricky"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"), "Michael": ("Mike", "Mikey", "Mick"), "Joseph": ("Joe", "Joey"),
    "Thomas": ("Tom", "Tommy"), "Charles": ("Charlie", "Chuck", "Chas"), "Christopher": ("Chris", "Topher"),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony",), "Donald": ("Don", "Donnie"),
    "Steven": ("Steve",), "Stephen": ("Steve",), "Andrew": ("Andy", "Drew"), "Kenneth": ("Ken", "Kenny"),
    "Joshua": ("Josh",), "Kevin": ("Kev",), "Timothy": ("Tim", "Timmy"), "Ronald": ("Ron", "Ronnie"),
    "Edward": ("Ed", "Eddie", "Ted", "Ned"), "Jeffrey": ("Jeff",), "Gregory": ("Greg",), "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benny"), "Nicholas": ("Nick", "Nicky"), "Alexander": ("Alex", "Xander"),
    "Patrick": ("Pat", "Paddy"), "Peter": ("Pete",), "Raymond": ("Ray",), "Gerald": ("Jerry", "Gerry"),
    "Lawrence": ("Larry",), "Jonathan": ("Jon",), "Nathan": ("Nate",), "Zachary": ("Zach", "Zack"),
    "Frederick": ("Fred", "Freddie"), "Douglas": ("Doug",), "Walter": ("Walt",), "Harold": ("Hal", "Harry"),
    "Henry": ("Hank", "Harry"), "Philip": ("Phil",), "Eugene": ("Gene",), "Francis": ("Frank",),
    "Frank": ("Frankie",), "Louis": ("Lou",), "Vincent": ("Vince", "Vinny"), "Albert": ("Al", "Bert"),
    "Theodore": ("Ted", "Teddy", "Theo"), "Leonard": ("Len", "Leo"), "Randall": ("Randy",),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie", "Eliza"), "Margaret": ("Maggie", "Peggy", "Meg", "Marge"),
    "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty", "Trish"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Cat", "Kate"), "Kathleen": ("Kathy", "Kate"), "Susan": ("Sue", "Susie"),
    "Deborah": ("Deb", "Debbie"), "Rebecca": ("Becky", "Becca"), "Jessica": ("Jess", "Jessie"),
    "Christine": ("Chris", "Tina"), "Christina": ("Chris", "Tina"), "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammy"), "Kimberly": ("Kim",), "Pamela": ("Pam",), "Barbara": ("Barb", "Babs"),
    "Dorothy": ("Dot", "Dottie"), "Judith": ("Judy",), "Cynthia": ("Cindy",), "Sandra": ("Sandy",),
    "Stephanie": ("Steph",), "Abigail": ("Abby",), "Alexandra": ("Alex", "Sasha"), "Allison": ("Ally",),
    "Amanda": ("Mandy",), "Melissa": ("Mel", "Missy"), "Nicole": ("Nikki",), "Theresa": ("Terri", "Tess"),
    "Valerie": ("Val",), "Virginia": ("Ginny",), "Jacqueline": ("Jackie",), "Danielle": ("Dani",),
    "Gabrielle": ("Gabby",), "Madison": ("Maddie",), "Angela": ("Angie",), "Suzanne": ("Sue",),
    "Teresa": ("Terri",), "Frances": ("Fran",), "Caroline": ("Carrie",), "Carolyn": ("Carrie",),
    "Eleanor": ("Ellie", "Nell"), "Josephine": ("Jo", "Josie"), "Andrea": ("Andi",), "Cassandra": ("Cassie",),
}

#: Product families: (code, nouns, low price, high price). Gift cards are priced by their face value.
PRODUCT_FAMILIES: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    ("ELE", ("Wireless Earbuds", "Bluetooth Speaker", "Smart TV 55in", "Laptop 14in", "Tablet 10in", "Smartwatch",
             "Noise-Cancelling Headphones", "Gaming Console", "USB-C Charger", "Portable SSD 1TB",
             "Mirrorless Camera", "E-Reader", "Mechanical Keyboard", "Wireless Mouse", "Monitor 27in"), 12, 1600),
    ("HOM", ("Coffee Maker", "Blender", "Cookware Set", "Bath Towel Set", "Duvet Cover", "Table Lamp",
             "Cordless Vacuum", "Air Purifier", "Knife Block Set", "Storage Bins 6-Pack", "Air Fryer",
             "Throw Blanket", "Cast Iron Skillet"), 9, 450),
    ("APP", ("Running Shoes", "Denim Jacket", "Wool Sweater", "Rain Coat", "Yoga Pants", "Cotton T-Shirt 3-Pack",
             "Leather Belt", "Winter Boots", "Hiking Socks", "Baseball Cap"), 8, 220),
    ("BKS", ("Hardcover Novel", "Cookbook", "Travel Guide", "Children's Picture Book", "Biography",
             "Puzzle Book", "Graphic Novel"), 6, 45),
    ("TOY", ("Building Blocks Set", "Board Game", "Plush Bear", "Remote Control Car", "Jigsaw Puzzle 1000pc",
             "Art Supplies Kit"), 8, 120),
    ("BTY", ("Shampoo", "Face Moisturizer", "Electric Toothbrush", "Hair Dryer", "Sunscreen SPF 50",
             "Perfume 50ml"), 5, 180),
    ("SPT", ("Yoga Mat", "Adjustable Dumbbells", "Camping Tent", "Water Bottle", "Bike Helmet", "Fitness Tracker"),
     9, 400),
    ("OFF", ("Printer Paper Ream", "Gel Pens 12-Pack", "Desk Organizer", "Office Chair", "Label Maker",
             "Notebook 3-Pack"), 4, 350),
    ("GRD", ("Garden Hose", "Pruning Shears", "Seed Starter Kit", "Patio Lights", "Bird Feeder"), 7, 160),
    ("PET", ("Dog Food 30lb", "Cat Litter", "Pet Bed", "Chew Toys 4-Pack", "Aquarium Filter"), 6, 90),
)
GIFT_CARD_VALUES: tuple[int, ...] = (25, 50, 100, 200, 500)
PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Classic", "Premium", "Compact", "Deluxe", "Eco", "Pro", "Essential", "Ultra", "Smart", "Everyday", "Travel",
)
BRAND_SUFFIXES: tuple[str, ...] = ("Home", "Labs", "Goods", "Works", "Outfitters", "Supply", "Co", "Audio", "Living")

#: Stand-in mail providers on reserved domains. The first label names the real provider whose rules the
#: synthetic data follows (gmail: dots are ignored; gmail, outlook, icloud, proton, fastmail: "+tag" ignored).
MAIL_PROVIDERS: tuple[tuple[str, int], ...] = (
    ("gmail.example.com", 36), ("yahoo.example.com", 14), ("outlook.example.com", 12), ("icloud.example.com", 9),
    ("aol.example.com", 3), ("proton.example.com", 3), ("fastmail.example.com", 1), ("comcast.example.net", 5),
    ("att.example.net", 3), ("verizon.example.net", 2), ("example.org", 6), ("example.net", 6),
)
DOTS_IGNORED = frozenset({"gmail.example.com"})
PLUS_TAGS = frozenset(
    {"gmail.example.com", "outlook.example.com", "icloud.example.com", "proton.example.com", "fastmail.example.com"}
)

#: Devices as the retailer records them: a model and platform; each owned device adds its own short id.
DEVICE_MODELS: tuple[tuple[str, int], ...] = (
    ("iPhone 15; iOS 17", 14), ("iPhone 13; iOS 16", 10), ("iPhone 12; iOS 15", 5), ("Pixel 8; Android 14", 5),
    ("Galaxy S23; Android 14", 8), ("Galaxy A54; Android 13", 5), ("Moto G; Android 12", 3),
    ("iPad Air; iPadOS 17", 5), ("Windows 11; Chrome 120", 14), ("Windows 10; Edge 119", 8),
    ("Windows 10; Firefox 121", 4), ("macOS 14; Safari 17", 9), ("macOS 13; Chrome 120", 6),
    ("ChromeOS; Chrome 119", 2), ("Ubuntu; Firefox 121", 1), ("Kindle Fire; Silk", 1),
)

SUPPORT_CHANNELS: tuple[tuple[str, int], ...] = (("chat", 5), ("phone", 3), ("email", 2))
HONEST_NOTES: tuple[str, ...] = (
    "Customer asked where order {order} is; tracking shows it out for delivery.",
    "Return started for order {order}; prepaid label sent.",
    "Customer reported a damaged item in order {order}; replacement shipped.",
    "Refund issued to the original card for order {order}.",
    "Customer asked to change the delivery window for order {order}.",
    "Customer could not sign in; password reset link sent to the email on file.",
    "Customer asked how to remove an old card from the account; walked through settings.",
    "Customer asked about price adjustment on order {order}; not eligible.",
    "Customer updated the default shipping address by phone after verification.",
    "Customer asked about store card payment due date.",
)
