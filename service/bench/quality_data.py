"""Names and places of the synthetic book of ``socialid bench quality``."""

from __future__ import annotations

COMMON_SURNAMES = """
    Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson
    Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner
    Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris
    Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey
    Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Hussain Marshall
""".split()
# Common given names, most common first: the head that makes names collide in a real book.
COMMON_GIVEN = """
    Olivia James Sarah David Emma John Sophie Michael Emily Thomas Jessica Daniel Hannah
    Robert Amy William Rebecca Richard Laura Christopher Charlotte Matthew Lucy Andrew
    Katherine Joseph Elizabeth Peter Margaret Mohammed Zoe Steven Rachel Paul Victoria Mark
    Jennifer Anthony Susan George Priya Edward Aisha Samuel Fatima Benjamin Chloe Kevin
""".split()
TAIL_ROOTS = """
    ka ro mi ten dor vel an sk ow ley ford by ash brook mar wen hal gar tor lin dun pel rad
    sel thorn wick mere bur cas
""".split()
# Written as the book holds them, then the spellings people type.
PARTICLE_SURNAMES: dict[str, list[str]] = {
    "van der Berg": ["Van Der Berg", "Vanderberg", "van den Berg"],
    "O'Brien": ["OBrien", "O Brien", "O\u2019Brien"],
    "O'Connor": ["OConnor", "O\u2019Connor"],
    "Nic Giolla Phádraig": ["Nic Giolla Phadraig", "NicGiolla Phadraig"],
    "Smith-Jones": ["Smith Jones", "Smith - Jones"],
    "Lloyd-Evans": ["Lloyd Evans", "Lloyd-evans"],
    "de la Cruz": ["De La Cruz", "Delacruz"],
    "D'Souza": ["DSouza", "D\u2019Souza", "De Souza"],
    "MacDonald": ["McDonald", "Mac Donald"],
    "ap Rhys": ["Ap Rhys", "Aprhys"],
}
# (native, Latin as people write it, sex); surnames: (male native, Latin, female native, Latin)
SCRIPT_GIVEN = [
    ("Γιώργος", "Giorgos", "m"),
    ("Δημήτρης", "Dimitris", "m"),
    ("Νίκος", "Nikos", "m"),
    ("Ελένη", "Eleni", "f"),
    ("Μαρία", "Maria", "f"),
    ("Κατερίνα", "Katerina", "f"),
    ("Иван", "Ivan", "m"),
    ("Дмитрий", "Dmitry", "m"),
    ("Сергей", "Sergei", "m"),
    ("Ольга", "Olga", "f"),
    ("Наталья", "Natalia", "f"),
    ("Анна", "Anna", "f"),
]
SCRIPT_FAMILY = [
    ("Παπαδόπουλος", "Papadopoulos", "Παπαδοπούλου", "Papadopoulou"),
    ("Οικονόμου", "Oikonomou", "Οικονόμου", "Oikonomou"),
    ("Γεωργίου", "Georgiou", "Γεωργίου", "Georgiou"),
    ("Иванов", "Ivanov", "Иванова", "Ivanova"),
    ("Смирнов", "Smirnov", "Смирнова", "Smirnova"),
    ("Кузнецов", "Kuznetsov", "Кузнецова", "Kuznetsova"),
]
# UK towns: postcode areas, landline prefix (six digits follow), share of customers.
UK_TOWNS = [
    ("London", ["SW", "SE", "N", "E"], "+442079", 22),
    ("Manchester", ["M"], "+441612", 8),
    ("Birmingham", ["B"], "+441212", 8),
    ("Leeds", ["LS"], "+441132", 6),
    ("Glasgow", ["G"], "+441412", 6),
    ("Liverpool", ["L"], "+441512", 5),
    ("Sheffield", ["S"], "+441142", 5),
    ("Bristol", ["BS"], "+441179", 5),
    ("Newcastle upon Tyne", ["NE"], "+441912", 4),
    ("Cardiff", ["CF"], "+442920", 4),
    ("Edinburgh", ["EH"], "+441312", 4),
    ("Nottingham", ["NG"], "+441159", 4),
    ("Leicester", ["LE"], "+441162", 3),
    ("York", ["YO"], "+441904", 2),
    ("Brighton", ["BN"], "+441273", 2),
    ("Oxford", ["OX"], "+441865", 2),
]
# Abroad: country, mobile prefix (six digits follow), towns as (city, region, first
# postcode, postcodes in the town, postcode width, landline prefix).
ABROAD: list[tuple[str, str, list[tuple[str, str, int, int, int, str]]]] = [
    (
        "AU",
        "+61412",
        [
            ("Sydney", "NSW", 2000, 200, 4, "+61292"),
            ("Melbourne", "VIC", 3000, 200, 4, "+61396"),
            ("Brisbane", "QLD", 4000, 170, 4, "+61733"),
        ],
    ),
    (
        "US",
        "+16462",
        [
            ("New York", "NY", 10001, 280, 5, "+12122"),
            ("Chicago", "IL", 60601, 60, 5, "+13122"),
            ("Boston", "MA", 2108, 90, 5, "+16172"),
        ],
    ),
    (
        "DE",
        "+4915112",
        [
            ("Berlin", "BE", 10115, 4000, 5, "+493012"),
            ("München", "BY", 80331, 1600, 5, "+498912"),
            ("Hamburg", "HH", 20095, 2500, 5, "+494012"),
        ],
    ),
    (
        "FR",
        "+33612",
        [
            ("Paris", "IDF", 75001, 20, 5, "+33142"),
            ("Lyon", "ARA", 69001, 9, 5, "+33472"),
            ("Marseille", "PAC", 13001, 16, 5, "+33491"),
        ],
    ),
]
STREETS = ["High Street", "Station Road", "Church Lane", "Park Avenue", "Mill Lane", "Victoria Rd"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com"]
