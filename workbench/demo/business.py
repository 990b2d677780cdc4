"""Word lists of the demo's business side: job titles, companies, industries, mail
domains and mailboxes, and the words of CRM activity (lead sources, products, tickets, sync).

Plain Python data, like :mod:`.data` (places and people); every string is Latin-1 encodable.
"""

from __future__ import annotations

JOB_TITLES: tuple[str, ...] = (
    "Sales Manager", "Account Executive", "Head of Sales", "Marketing Manager", "IT Manager",
    "Procurement Manager", "Operations Manager", "Finance Manager", "Office Manager",
    "Project Manager", "Software Engineer", "Customer Success Manager", "VP Sales", "CEO",
    "CFO", "CTO", "COO", "Managing Director", "Geschäftsführer", "Head of Marketing",
    "Director of IT", "Controller", "Purchasing Agent", "Data Analyst", "Business Analyst",
    "Product Manager", "HR Manager", "Executive Assistant", "Head of Operations",
    "Chief Revenue Officer",
)  # fmt: skip

COMPANY_STEMS: tuple[str, ...] = (
    "Acme", "Nordwind", "Bluefin", "Alpenblick", "Redwood", "Sterling", "Quantum", "Helios",
    "Polaris", "Vertex", "Atlas", "Beacon", "Cobalt", "Evergreen", "Falcon", "Granite",
    "Harbor", "Ironwood", "Juniper", "Keystone", "Lighthouse", "Meridian", "Northstar",
    "Oakridge", "Pinnacle", "Riverside", "Summit", "Tidewater", "Unity", "Vanguard",
    "Westbrook", "Zenith", "Brightline", "Clearwater", "Silverline", "Greenfield",
    "Blackstone", "Stonebridge", "Fairway", "Highland", "Lakeside", "Maplewood", "Nimbus",
    "Orion", "Pioneer", "Rheinland", "Sonnenberg", "Taurus", "Ultramar", "Vista", "Wavecrest",
    "Yellowstone", "Alster", "Bergmann", "Donau", "Elbtal", "Fjord", "Gotland", "Hanse",
    "Isar", "Jura", "Kestrel", "Lumen", "Mistral", "Nova", "Olympia", "Prisma", "Quarz",
    "Rubin", "Saphir", "Tessera", "Urban", "Vektor", "Wolkenweit", "Xenon", "Yarrow",
    "Zephyr", "Aurora", "Borealis", "Cascade", "Delta", "Everest", "Fusion", "Glacier",
    "Horizon", "Infinity", "Jade", "Kinetic", "Legacy", "Momentum", "Nexus", "Onyx",
    "Paragon", "Radiant", "Sierra", "Triton", "Upland", "Velocity", "Willow", "Apex",
    "Bridgewater", "Crescent", "Dynamo", "Ember", "Frontier", "Gemini", "Hudson", "Ivory",
    "Keller", "Lindner", "Marquardt", "Neckar", "Oderberg", "Pfeiffer", "Quelle", "Rosen",
    "Steinhaus", "Thalberg", "Ulmen", "Vogt", "Weidner", "Zollern", "Süd", "Löwen", "Grün",
    "Élan", "Étoile", "Côte", "Fjäll", "Björk", "Mälar", "Sol", "Luna", "Terra", "Aqua",
    "Ignis", "Ventus", "Corvus", "Lyra", "Draco", "Cygnus", "Hydra", "Pegasus", "Phoenix",
    "Sirius", "Vega",
)  # fmt: skip

COMPANY_NOUNS: tuple[str, ...] = (
    "Systems", "Logistics", "Analytics", "Solutions", "Technologies", "Consulting",
    "Industries", "Software", "Energy", "Partners", "Media", "Foods", "Engineering",
    "Capital", "Networks", "Health", "Robotics", "Materials", "Labs", "Services",
    "Manufacturing", "Retail", "Pharma", "Insurance", "Automotive", "Textiles", "Digital",
    "Dynamics", "Ventures", "Holdings", "Maschinenbau", "Logistik", "Handel", "Technik",
    "Werke", "Verlag", "Bau", "Elektro", "Transport", "Data", "Cloud", "Security",
    "Biotech", "Optics", "Instruments", "Chemicals", "Aerospace", "Marine", "Agro",
    "Packaging", "Print", "Travel", "Finance", "Telecom", "Design", "Studios", "Outdoor",
    "Furniture", "Water", "Solar",
)  # fmt: skip

# Used in turn once every stem+noun combination is taken (large demos only).
COMPANY_QUALIFIERS: tuple[str, ...] = (
    "", " Group", " International", " Holding", " & Co", " Europe", " Digital",
)  # fmt: skip

# The spelling variant a clerk picks for a legal form ("Inc." -> "Inc").
LEGAL_FORM_VARIANTS: dict[str, str] = {
    "GmbH": "Gmbh", "AG": "A.G.", "GmbH & Co. KG": "GmbH & Co KG", "Ltd": "Ltd.",
    "PLC": "plc", "DAC": "D.A.C.", "SA": "S.A.", "SAS": "S.A.S.", "SARL": "S.à r.l.",
    "B.V.": "BV", "N.V.": "NV", "S.L.": "SL", "S.A.": "SA", "S.r.l.": "SRL",
    "S.p.A.": "SpA", "AB": "Aktiebolag", "Inc.": "Inc", "LLC": "L.L.C.",
    "Corp.": "Corporation", "Ltd.": "Limited", "Pty Ltd": "Pty. Ltd.", "K.K.": "KK",
    "Co., Ltd.": "Co. Ltd", "Pte. Ltd.": "Pte Ltd",
}  # fmt: skip

INDUSTRIES: tuple[str, ...] = (
    "Software", "Manufacturing", "Retail", "Financial Services", "Healthcare", "Logistics",
    "Energy", "Telecommunications", "Professional Services", "Education", "Media",
    "Construction",
)  # fmt: skip

FREEMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "web.de", "icloud.com",
    "t-online.de", "orange.fr", "hotmail.co.uk", "libero.it", "yahoo.co.uk",
)  # fmt: skip

ROLE_MAILBOXES: tuple[str, ...] = ("info", "sales", "office", "contact", "kontakt", "team")

PLUS_TAGS: tuple[str, ...] = ("news", "crm", "billing", "work", "events")

LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("Web", 0.34), ("Webinar", 0.14), ("Trade Show", 0.12), ("Referral", 0.12),
    ("Partner", 0.1), ("Cold Call", 0.08), ("Advertisement", 0.1),
)  # fmt: skip

DEAL_PRODUCTS: tuple[str, ...] = (
    "New Business", "Renewal", "Upsell", "Expansion", "Pilot", "Platform License",
    "Professional Services", "Support Upgrade",
)  # fmt: skip

TICKET_SUBJECTS: tuple[str, ...] = (
    "Cannot log in", "Password reset not working", "Invoice question", "Wrong invoice amount",
    "Sync error between CRM and billing", "Contact not updated in billing",
    "Request for API access", "Export to Excel fails", "Duplicate contacts after import",
    "How do I change my billing address?", "Report shows wrong numbers", "Feature request",
    "Slow performance this morning", "User licence upgrade", "Cancel subscription",
    "Missing data after sync", "Error 500 on dashboard", "Add new user",
    "Integration stopped working", "Question about renewal",
)  # fmt: skip

SYNC_ROUTES: tuple[tuple[str, str, str, float], ...] = (
    ("crm", "billing", "contact", 0.26), ("crm", "billing", "account", 0.12),
    ("crm", "billing", "deal", 0.1), ("billing", "crm", "invoice", 0.18),
    ("billing", "crm", "contact", 0.06), ("crm", "support", "contact", 0.14),
    ("crm", "support", "account", 0.04), ("support", "crm", "ticket", 0.1),
)  # fmt: skip

SYNC_ERRORS: tuple[tuple[str, float], ...] = (
    ("TIMEOUT", 0.32), ("VALIDATION_ERROR", 0.24), ("DUPLICATE_KEY", 0.14),
    ("RATE_LIMITED", 0.12), ("AUTH_EXPIRED", 0.08), ("MAPPING_MISSING", 0.1),
)  # fmt: skip
