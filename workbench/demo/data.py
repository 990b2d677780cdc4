"""Word lists the demo world is made of: countries, cities, streets, names (the words of its
business side, companies and CRM activity, are in :mod:`.business`).

Plain Python data, kept small. Every string is Latin-1 encodable, because the billing export
is written in Latin-1. Lists of names are ordered from common to rare: draws are skewed
towards the front, which yields natural namesakes as in real data.
"""

from __future__ import annotations

from typing import NamedTuple


class Country(NamedTuple):
    """A country and the conventions its records follow."""

    iso2: str
    name_de: str  # how the German billing system writes it
    region: str
    culture: str  # name list used by most people there
    currency: str
    calling_code: str
    trunk: str  # national trunk prefix, "" where numbers are dialled without one
    mobile_prefixes: tuple[str, ...]
    mobile_digits: int
    number_first: bool  # "12 High Street" (True) or "Hauptstrasse 12" (False)
    tld: str
    legal_forms: tuple[str, ...]
    weight: float
    mobile_lead: str = "2345678"  # digits a mobile subscriber number may start with


COUNTRIES: tuple[Country, ...] = (
    Country("DE", "Deutschland", "EMEA", "de", "EUR", "49", "0",
            ("160", "170", "171", "172", "176"), 7, False, "de",
            ("GmbH", "AG", "GmbH & Co. KG"), 0.18),
    Country("AT", "Österreich", "EMEA", "de", "EUR", "43", "0",
            ("664", "676", "699"), 7, False, "at", ("GmbH", "AG"), 0.03),
    Country("CH", "Schweiz", "EMEA", "de", "EUR", "41", "0",
            ("76", "78", "79"), 7, False, "ch", ("AG", "GmbH", "SA"), 0.03),
    Country("GB", "Großbritannien", "EMEA", "en", "GBP", "44", "0",
            ("7400", "7501"), 6, True, "co.uk", ("Ltd", "PLC"), 0.12),
    Country("IE", "Irland", "EMEA", "en", "EUR", "353", "0",
            ("85", "86", "87"), 7, True, "ie", ("Ltd", "DAC"), 0.02),
    Country("FR", "Frankreich", "EMEA", "fr", "EUR", "33", "0",
            ("6",), 8, True, "fr", ("SA", "SAS", "SARL"), 0.08, "12456"),
    Country("NL", "Niederlande", "EMEA", "nl", "EUR", "31", "0",
            ("6",), 8, False, "nl", ("B.V.", "N.V."), 0.06, "123456"),
    Country("ES", "Spanien", "EMEA", "es", "EUR", "34", "",
            ("6",), 8, False, "es", ("S.L.", "S.A."), 0.05),
    Country("IT", "Italien", "EMEA", "it", "EUR", "39", "",
            ("333", "347", "320"), 7, False, "it", ("S.r.l.", "S.p.A."), 0.04),
    Country("SE", "Schweden", "EMEA", "sv", "EUR", "46", "0",
            ("70", "72", "73"), 7, False, "se", ("AB",), 0.03),
    Country("US", "USA", "NA", "en", "USD", "1", "",
            (), 7, True, "com", ("Inc.", "LLC", "Corp."), 0.22),
    Country("CA", "Kanada", "NA", "en", "USD", "1", "",
            (), 7, True, "ca", ("Inc.", "Ltd."), 0.05),
    Country("AU", "Australien", "APAC", "en", "USD", "61", "0",
            ("4",), 8, True, "com.au", ("Pty Ltd",), 0.04, "0123"),
    Country("JP", "Japan", "APAC", "ja", "USD", "81", "0",
            ("90", "80"), 8, True, "co.jp", ("K.K.", "Co., Ltd."), 0.03),
    Country("SG", "Singapur", "APAC", "zh", "USD", "65", "",
            ("8", "9"), 7, True, "com.sg", ("Pte. Ltd.",), 0.02),
)  # fmt: skip

# Other spellings the billing system uses for some countries (all mapped in workbench.yaml).
COUNTRY_ALIASES_DE: dict[str, str] = {"DE": "D", "GB": "UK", "US": "Vereinigte Staaten"}

# Country names in English: what a clerk types where an ISO code belongs (an injected error).
COUNTRY_NAMES_EN: dict[str, str] = {
    "DE": "Germany", "AT": "Austria", "CH": "Switzerland", "GB": "United Kingdom",
    "IE": "Ireland", "FR": "France", "NL": "Netherlands", "ES": "Spain", "IT": "Italy",
    "SE": "Sweden", "US": "United States", "CA": "Canada", "AU": "Australia", "JP": "Japan",
    "SG": "Singapore",
}  # fmt: skip


class City(NamedTuple):
    """A city, how its postcodes look and its landline area code.

    ``postcode`` kinds: ``num`` (zero-padded number in lo..hi of ``width`` digits), ``nl``
    (``1011 AB``), ``gb`` (``prefix`` + district lo..hi + `` 1AB``), ``ca`` (``M5V 2T6``),
    ``ie`` (``D02 X285``), ``jp`` (``100-0005``), ``se`` (``111 20``).
    """

    iso2: str
    name: str
    alias: str  # English exonym or other common spelling, "" if none
    tz: str
    postcode: str
    prefix: str
    lo: int
    hi: int
    width: int
    area_code: str
    digits: int  # subscriber number length
    weight: float
    lead: str = "2345678"  # digits a subscriber number may start with (valid ranges)


CITIES: tuple[City, ...] = (
    City("DE", "Berlin", "", "Europe/Berlin", "num", "", 10115, 14199, 5, "30", 7, 5),
    City("DE", "Hamburg", "", "Europe/Berlin", "num", "", 20095, 22769, 5, "40", 7, 3),
    City("DE", "München", "Munich", "Europe/Berlin", "num", "", 80331, 81929, 5, "89", 7, 3),
    City("DE", "Köln", "Cologne", "Europe/Berlin", "num", "", 50667, 51149, 5, "221", 7, 2),
    City(
        "DE",
        "Frankfurt am Main",
        "Frankfurt",
        "Europe/Berlin",
        "num",
        "",
        60306,
        60599,
        5,
        "69",
        7,
        2,
    ),
    City("DE", "Stuttgart", "", "Europe/Berlin", "num", "", 70173, 70629, 5, "711", 7, 1.5),
    City(
        "DE",
        "Düsseldorf",
        "Duesseldorf",
        "Europe/Berlin",
        "num",
        "",
        40210,
        40629,
        5,
        "211",
        7,
        1.5,
    ),
    City("DE", "Leipzig", "", "Europe/Berlin", "num", "", 4103, 4357, 5, "341", 7, 1),
    City("DE", "Nürnberg", "Nuremberg", "Europe/Berlin", "num", "", 90402, 90491, 5, "911", 7, 1),
    City("AT", "Wien", "Vienna", "Europe/Vienna", "num", "", 1010, 1230, 4, "1", 7, 4),
    City("AT", "Graz", "", "Europe/Vienna", "num", "", 8010, 8055, 4, "316", 6, 1),
    City("AT", "Linz", "", "Europe/Vienna", "num", "", 4020, 4040, 4, "732", 6, 1),
    City("AT", "Salzburg", "", "Europe/Vienna", "num", "", 5020, 5026, 4, "662", 6, 1),
    City("CH", "Zürich", "Zurich", "Europe/Zurich", "num", "", 8001, 8057, 4, "44", 7, 3),
    City("CH", "Genève", "Geneva", "Europe/Zurich", "num", "", 1201, 1209, 4, "22", 7, 2),
    City("CH", "Basel", "", "Europe/Zurich", "num", "", 4001, 4059, 4, "61", 7, 1),
    City("CH", "Bern", "", "Europe/Zurich", "num", "", 3001, 3030, 4, "31", 7, 1),
    City("GB", "London", "", "Europe/London", "gb", "SW", 1, 20, 0, "20", 8, 3, "378"),
    City("GB", "London", "", "Europe/London", "gb", "EC", 1, 4, 0, "20", 8, 2, "378"),
    City("GB", "Manchester", "", "Europe/London", "gb", "M", 1, 40, 0, "161", 7, 1.5),
    City("GB", "Birmingham", "", "Europe/London", "gb", "B", 1, 45, 0, "121", 7, 1.5, "234567"),
    City("GB", "Leeds", "", "Europe/London", "gb", "LS", 1, 29, 0, "113", 7, 1, "2345"),
    City("GB", "Edinburgh", "", "Europe/London", "gb", "EH", 1, 17, 0, "131", 7, 1),
    City("GB", "Bristol", "", "Europe/London", "gb", "BS", 1, 16, 0, "117", 7, 1, "2349"),
    City("IE", "Dublin", "", "Europe/Dublin", "ie", "D", 1, 24, 0, "1", 7, 3),
    City("IE", "Cork", "", "Europe/Dublin", "ie", "T", 12, 23, 0, "21", 6, 1),
    City("IE", "Galway", "", "Europe/Dublin", "ie", "H", 91, 91, 0, "91", 6, 0.5),
    City("FR", "Paris", "", "Europe/Paris", "num", "", 75001, 75020, 5, "1", 8, 4),
    City("FR", "Lyon", "", "Europe/Paris", "num", "", 69001, 69009, 5, "4", 8, 1.5),
    City("FR", "Marseille", "", "Europe/Paris", "num", "", 13001, 13016, 5, "4", 8, 1),
    City("FR", "Toulouse", "", "Europe/Paris", "num", "", 31000, 31500, 5, "5", 8, 1),
    City("FR", "Lille", "", "Europe/Paris", "num", "", 59000, 59800, 5, "3", 8, 1),
    City("FR", "Nantes", "", "Europe/Paris", "num", "", 44000, 44300, 5, "2", 8, 0.7, "234578"),
    City("NL", "Amsterdam", "", "Europe/Amsterdam", "nl", "", 1011, 1109, 4, "20", 7, 3),
    City("NL", "Rotterdam", "", "Europe/Amsterdam", "nl", "", 3011, 3089, 4, "10", 7, 2),
    City("NL", "Den Haag", "The Hague", "Europe/Amsterdam", "nl", "", 2511, 2597, 4, "70", 7, 1.5),
    City("NL", "Utrecht", "", "Europe/Amsterdam", "nl", "", 3511, 3585, 4, "30", 7, 1),
    City("NL", "Eindhoven", "", "Europe/Amsterdam", "nl", "", 5611, 5658, 4, "40", 7, 1),
    City("ES", "Madrid", "", "Europe/Madrid", "num", "", 28001, 28055, 5, "91", 7, 3),
    City("ES", "Barcelona", "", "Europe/Madrid", "num", "", 8001, 8042, 5, "93", 7, 3),
    City("ES", "Valencia", "", "Europe/Madrid", "num", "", 46001, 46026, 5, "96", 7, 1),
    City("ES", "Sevilla", "Seville", "Europe/Madrid", "num", "", 41001, 41020, 5, "95", 7, 1),
    City("ES", "Bilbao", "", "Europe/Madrid", "num", "", 48001, 48015, 5, "94", 7, 0.7),
    City("ES", "Málaga", "Malaga", "Europe/Madrid", "num", "", 29001, 29018, 5, "95", 7, 0.7),
    City("IT", "Milano", "Milan", "Europe/Rome", "num", "", 20121, 20162, 5, "02", 8, 3),
    City("IT", "Roma", "Rome", "Europe/Rome", "num", "", 118, 199, 5, "06", 8, 3),
    City("IT", "Torino", "Turin", "Europe/Rome", "num", "", 10121, 10156, 5, "011", 7, 1),
    City("IT", "Napoli", "Naples", "Europe/Rome", "num", "", 80121, 80147, 5, "081", 7, 1),
    City("IT", "Bologna", "", "Europe/Rome", "num", "", 40121, 40141, 5, "051", 7, 0.7),
    City("IT", "Firenze", "Florence", "Europe/Rome", "num", "", 50121, 50145, 5, "055", 7, 0.7),
    City("SE", "Stockholm", "", "Europe/Stockholm", "se", "", 11120, 11860, 5, "8", 7, 3),
    City(
        "SE", "Göteborg", "Gothenburg", "Europe/Stockholm", "se", "", 41101, 41879, 5, "31", 7, 1.5
    ),
    City("SE", "Malmö", "Malmo", "Europe/Stockholm", "se", "", 21110, 21775, 5, "40", 6, 1),
    City("SE", "Uppsala", "", "Europe/Stockholm", "se", "", 75220, 75758, 5, "18", 6, 0.7),
    City("US", "New York", "", "America/New_York", "num", "", 10001, 10282, 5, "212", 7, 4),
    City("US", "San Francisco", "", "America/Los_Angeles", "num", "", 94102, 94134, 5, "415", 7, 2),
    City("US", "Chicago", "", "America/Chicago", "num", "", 60601, 60661, 5, "312", 7, 2),
    City("US", "Boston", "", "America/New_York", "num", "", 2108, 2137, 5, "617", 7, 1.5),
    City("US", "Seattle", "", "America/Los_Angeles", "num", "", 98101, 98199, 5, "206", 7, 1.5),
    City("US", "Austin", "", "America/Chicago", "num", "", 78701, 78759, 5, "512", 7, 1.5),
    City("US", "Atlanta", "", "America/New_York", "num", "", 30301, 30399, 5, "404", 7, 1),
    City("US", "Denver", "", "America/Denver", "num", "", 80201, 80299, 5, "303", 7, 1),
    City("US", "Los Angeles", "", "America/Los_Angeles", "num", "", 90001, 90089, 5, "213", 7, 2),
    City("US", "Miami", "", "America/New_York", "num", "", 33101, 33199, 5, "305", 7, 1),
    City("CA", "Toronto", "", "America/Toronto", "ca", "M", 0, 0, 0, "416", 7, 3),
    City("CA", "Vancouver", "", "America/Vancouver", "ca", "V", 0, 0, 0, "604", 7, 1.5),
    City("CA", "Montréal", "Montreal", "America/Toronto", "ca", "H", 0, 0, 0, "514", 7, 1.5),
    City("CA", "Calgary", "", "America/Edmonton", "ca", "T", 0, 0, 0, "403", 7, 1),
    City("AU", "Sydney", "", "Australia/Sydney", "num", "", 2000, 2234, 4, "2", 8, 3, "289"),
    City(
        "AU", "Melbourne", "", "Australia/Melbourne", "num", "", 3000, 3207, 4, "3", 8, 2.5, "2389"
    ),
    City("AU", "Brisbane", "", "Australia/Brisbane", "num", "", 4000, 4179, 4, "7", 8, 1.5, "3"),
    City("AU", "Perth", "", "Australia/Perth", "num", "", 6000, 6199, 4, "8", 8, 1, "789"),
    City("JP", "Tokyo", "", "Asia/Tokyo", "jp", "", 100, 199, 3, "3", 8, 4),
    City("JP", "Osaka", "", "Asia/Tokyo", "jp", "", 530, 559, 3, "6", 8, 2),
    City("JP", "Yokohama", "", "Asia/Tokyo", "jp", "", 220, 247, 3, "45", 7, 1.5),
    City("JP", "Nagoya", "", "Asia/Tokyo", "jp", "", 450, 468, 3, "52", 7, 1),
    City("SG", "Singapore", "", "Asia/Singapore", "num", "", 18900, 828000, 6, "6", 7, 1, "234578"),
)

# Street names by country; number placement follows Country.number_first.
STREETS: dict[str, tuple[str, ...]] = {
    "de": ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Lindenweg",
           "Gartenstraße", "Industriestraße", "Friedrichstraße", "Kirchplatz", "Am Markt",
           "Berliner Allee", "Mühlenweg", "Schulstraße", "Rosenstraße", "Kaiserstraße"),
    "en": ("High Street", "Main Street", "Church Road", "Station Road", "Park Avenue",
           "Oak Street", "Market Street", "Victoria Road", "King Street", "Elm Street",
           "Queen Street", "Mill Lane", "Broadway", "Maple Avenue", "Washington Street"),
    "fr": ("rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Saint-Michel",
           "rue de l'Église", "place de la République", "rue des Lilas", "avenue Foch",
           "rue Pasteur", "quai de la Gare"),
    "nl": ("Keizersgracht", "Herengracht", "Kerkstraat", "Dorpsstraat", "Stationsweg",
           "Molenweg", "Julianalaan", "Schoolstraat", "Nieuwstraat", "Marktplein"),
    "es": ("Calle Mayor", "Gran Vía", "Calle de Alcalá", "Paseo de la Castellana",
           "Avenida Diagonal", "Calle Real", "Plaza de España", "Calle Serrano"),
    "it": ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Via Mazzini",
           "Piazza del Duomo", "Via Verdi", "Corso Venezia"),
    "sv": ("Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan", "Sveavägen",
           "Skolgatan", "Kyrkogatan", "Östermalmsgatan"),
    "ja": ("Marunouchi", "Shibuya", "Shinjuku", "Umeda", "Namba", "Minato Mirai",
           "Sakae", "Ginza"),
    "zh": ("Orchard Road", "Raffles Place", "Robinson Road", "Shenton Way", "Cecil Street",
           "Beach Road", "Anson Road"),
}  # fmt: skip

# Abbreviations billing clerks use ("Hauptstraße 5" -> "Hauptstr. 5").
STREET_ABBREVIATIONS: dict[str, str] = {
    "straße": "str.", "Street": "St", "Road": "Rd", "Avenue": "Ave", "Lane": "Ln",
    "avenue": "av.", "boulevard": "bd", "Calle": "C/", "gatan": "g.", "weg": "wg.",
}  # fmt: skip

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "de": ("Thomas", "Michael", "Andreas", "Stefan", "Julia", "Anna", "Christian", "Sandra",
           "Markus", "Katharina", "Alexander", "Daniel", "Sabine", "Stefanie", "Sebastian",
           "Christina", "Tobias", "Nicole", "Jan", "Claudia", "Matthias", "Susanne",
           "Florian", "Laura", "Martin", "Lena", "Peter", "Sarah", "Jürgen", "Melanie",
           "Wolfgang", "Franziska", "Maximilian", "Johannes", "Petra", "Felix", "Birgit",
           "Lukas", "Monika", "Jörg", "Sophie", "Uwe", "Marie", "Klaus", "Anja", "Björn",
           "Sören", "Jana"),
    "en": ("James", "John", "Robert", "Michael", "William", "David", "Sarah", "Jennifer",
           "Richard", "Elizabeth", "Emily", "Joseph", "Thomas", "Jessica", "Katherine",
           "Christopher", "Daniel", "Emma", "Matthew", "Margaret", "Anthony", "Olivia",
           "Andrew", "Rebecca", "Steven", "Susan", "Edward", "Victoria", "Benjamin",
           "Samantha", "Jonathan", "Rachel", "Nicholas", "Laura", "Samuel", "Hannah",
           "Timothy", "Charlotte", "Gregory", "Patricia", "Patrick", "Amy", "Peter",
           "Lucy", "Charles", "Alexandra", "Mary", "Barbara", "Linda", "Karen"),
    "fr": ("Jean", "Marie", "Pierre", "Nathalie", "Nicolas", "Isabelle", "François",
           "Sophie", "Philippe", "Céline", "Laurent", "Julie", "Julien", "Sylvie",
           "Sébastien", "Camille", "Stéphane", "Catherine", "Frédéric", "Valérie",
           "Olivier", "Aurélie", "Christophe", "Hélène", "Antoine", "Émilie", "Mathieu",
           "Chloé", "Guillaume", "Léa", "Jérôme", "Élodie", "Jean-Pierre", "Anne-Sophie",
           "Marie-Claire", "Anaïs", "Thomas", "Manon"),
    "nl": ("Jan", "Sanne", "Pieter", "Anouk", "Daan", "Lotte", "Bram", "Emma", "Thijs",
           "Femke", "Jeroen", "Eva", "Sander", "Lisa", "Bas", "Iris", "Ruud", "Marieke",
           "Maarten", "Inge", "Wouter", "Esther", "Joost", "Nienke", "Koen", "Floor"),
    "es": ("José", "María", "Antonio", "Carmen", "Manuel", "Ana", "Francisco", "Isabel",
           "Juan", "Laura", "David", "Cristina", "Javier", "Marta", "Daniel", "Lucía",
           "Carlos", "Elena", "Jesús", "Pilar", "Alejandro", "Paula", "Miguel", "Raquel",
           "Pablo", "Rocío", "Álvaro", "Inés", "Sergio", "Nuria"),
    "it": ("Marco", "Giulia", "Giuseppe", "Francesca", "Giovanni", "Chiara", "Antonio",
           "Sara", "Francesco", "Valentina", "Luca", "Alessia", "Alessandro", "Elena",
           "Andrea", "Martina", "Matteo", "Silvia", "Lorenzo", "Federica", "Stefano",
           "Paola", "Roberto", "Roberta", "Paolo", "Federico", "Simone", "Davide"),
    "sv": ("Lars", "Anna", "Anders", "Eva", "Johan", "Maria", "Erik", "Karin", "Per",
           "Kristina", "Karl", "Sofia", "Nils", "Emma", "Mikael", "Ingrid", "Björn",
           "Elin", "Magnus", "Maja", "Fredrik", "Astrid", "Oskar", "Åsa", "Gustav", "Malin"),
    "ja": ("Hiroshi", "Yumi", "Takashi", "Keiko", "Kenji", "Yoko", "Yuki", "Naoko",
           "Satoshi", "Aiko", "Daisuke", "Sakura", "Haruto", "Yui", "Kazuki", "Hina",
           "Takumi", "Mei", "Akira", "Akiko", "Makoto", "Tomoko", "Ren", "Emi"),
    "zh": ("Wei", "Mei Ling", "Jun", "Hui Min", "Ming", "Siew Ling", "Kok Wai", "Li Na",
           "Jun Jie", "Xin Yi", "Wei Ming", "Jia Hui", "Daniel", "Rachel", "Ryan",
           "Michelle", "Nicholas", "Jasmine", "Kai", "Grace"),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
           "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein",
           "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger",
           "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause",
           "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
           "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang",
           "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel", "Günther", "Groß",
           "Keller", "Berger", "Roth", "Beck", "Lorenz", "Baumann", "von Bergen"),
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
           "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson",
           "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
           "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
           "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner",
           "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
           "Morgan", "Cooper", "Bailey", "Kelly", "Howard", "O'Brien", "O'Connor",
           "McDonald", "Hughes", "Wood", "Walsh"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
           "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia",
           "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
           "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Legrand", "Garnier",
           "Faure", "Rousseau", "Blanc", "Guérin", "Chevalier", "Clément", "Gérard",
           "Noël", "Lemaire", "Dupuis", "de la Fontaine"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker",
           "Janssen", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos",
           "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
           "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok",
           "Jacobs", "de Haan", "Vermeulen"),
    "es": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
           "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres",
           "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco",
           "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro", "Núñez"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
           "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini",
           "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana",
           "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
           "Leone", "Longo", "Gentile", "Vitale", "Serra", "D'Angelo", "Marchetti"),
    "sv": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
           "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson",
           "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Magnusson", "Lindström",
           "Lindqvist", "Lindgren", "Berg", "Bergström", "Lundberg", "Åberg", "Öberg",
           "Ström", "Sjöberg", "Forsberg", "Holm"),
    "ja": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto",
           "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi",
           "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu", "Yamazaki", "Mori", "Abe",
           "Ikeda", "Hashimoto", "Ishikawa", "Ogawa", "Okada", "Goto", "Hasegawa"),
    "zh": ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo",
           "Ang", "Yeo", "Tay", "Ho", "Low", "Toh", "Sim", "Chong", "Chia", "Seah", "Foo",
           "Leong", "Chen", "Wang"),
}  # fmt: skip

# Cultures whose people often carry two family names ("García López").
DOUBLE_SURNAME_CULTURES: tuple[str, ...] = ("es",)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Katherine": ("Kate", "Katie", "Kathy"), "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Michael": ("Mike", "Mick"), "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris",),
    "Jennifer": ("Jen", "Jenny"), "Margaret": ("Maggie", "Peggy"),
    "James": ("Jim", "Jimmy", "Jamie"), "Richard": ("Rick", "Rich", "Dick"),
    "Daniel": ("Dan", "Danny"), "Alexander": ("Alex",), "Alexandra": ("Alex", "Sandra"),
    "Matthew": ("Matt",), "Andrew": ("Andy", "Drew"), "Anthony": ("Tony",),
    "Joseph": ("Joe", "Joey"), "Patricia": ("Pat", "Trish"), "Nicholas": ("Nick",),
    "Benjamin": ("Ben",), "Samuel": ("Sam",), "Samantha": ("Sam",), "Jonathan": ("Jon",),
    "Timothy": ("Tim",), "Steven": ("Steve",), "Edward": ("Ed", "Ted"),
    "Charles": ("Charlie", "Chuck"), "Peter": ("Pete",), "Gregory": ("Greg",),
    "Patrick": ("Pat", "Paddy"), "Rebecca": ("Becky",), "Victoria": ("Vicky", "Tori"),
    "Jessica": ("Jess",), "Susan": ("Sue",), "Barbara": ("Barb",), "Christina": ("Tina",),
    "Stefanie": ("Steffi",), "Katharina": ("Kathi", "Kati"), "Johannes": ("Hans", "Jo"),
    "Maximilian": ("Max",), "Sebastian": ("Basti",), "Tobias": ("Tobi",),
    "Wolfgang": ("Wolfi",), "Andreas": ("Andi",), "Franziska": ("Franzi",),
    "Susanne": ("Susi",), "Christian": ("Chris",), "Florian": ("Flo",),
    "José": ("Pepe",), "Francisco": ("Paco", "Fran"), "Antonio": ("Toni",),
    "Manuel": ("Manu",), "Javier": ("Javi",), "Giuseppe": ("Beppe", "Peppe"),
    "Alessandro": ("Ale",), "Federico": ("Fede",), "Pieter": ("Piet",),
    "Frédéric": ("Fred",), "Nicolas": ("Nico",), "Christophe": ("Chris",),
    "Sébastien": ("Seb",), "Catherine": ("Cathy",), "Mikael": ("Micke",),
}  # fmt: skip

ACCENTS: dict[str, str] = {
    "á": "a", "à": "a", "â": "a", "ä": "a", "å": "a", "ã": "a", "é": "e", "è": "e",
    "ê": "e", "ë": "e", "í": "i", "ì": "i", "î": "i", "ï": "i", "ó": "o", "ò": "o",
    "ô": "o", "ö": "o", "õ": "o", "ø": "o", "ú": "u", "ù": "u", "û": "u", "ü": "u",
    "ñ": "n", "ç": "c", "ß": "ss", "Á": "A", "À": "A", "Â": "A", "Ä": "A", "Å": "A",
    "É": "E", "È": "E", "Ê": "E", "Í": "I", "Î": "I", "Ó": "O", "Ô": "O", "Ö": "O",
    "Ø": "O", "Ú": "U", "Û": "U", "Ü": "U", "Ñ": "N", "Ç": "C",
}  # fmt: skip

# German-style transliteration ("Müller" -> "Mueller"), used by some billing clerks.
TRANSLITERATIONS: dict[str, str] = {
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
}  # fmt: skip
