"""Word lists the rule brain reads callers with. Kept apart from the matching code so that a
dispatcher's "callers also say…" is a one-line change here, reviewed without touching logic.

Every phrase is written in the normalised form `brain.normalise` produces: lower case, plain
apostrophes, punctuation turned into spaces.
"""

from __future__ import annotations


def _words_of(text: str) -> list[str]:
    """A word list written as text, one space between words."""
    return text.split()


# --- Emergencies ------------------------------------------------------------------------------
# Regular expressions over the normalised utterance, per emergency code. Order matters: the first
# code that matches wins, so the most dangerous comes first.
EMERGENCY_PATTERNS: dict[str, tuple[str, ...]] = {
    "gas": (
        r"\bsmell(?:s|ing)? (?:of |like )?(?:natural )?gas\b",
        r"\bgas (?:smell|odou?r|leak|leaking|is leaking)\b",
        r"\bleaking gas\b",
        r"\brotten eggs?\b",
        r"\bhiss(?:ing)? (?:from |at |on )?(?:the )?gas\b",
        r"\bgas (?:line|meter|pipe) (?:is )?hissing\b",
    ),
    "carbon_monoxide": (
        r"\bcarbon monoxide\b",
        r"\bmonoxide\b",
        r"\bco (?:alarm|detector|monitor)\b",
    ),
    "electrical_fire": (
        r"\b(?:burning|smoke|smoky|electrical fire|melting plastic) smell\b",
        r"\bsmell(?:s|ing)? (?:of |like )?(?:something )?(?:is )?(?:burning|smoke|melting)\b",
        r"\bsmoke (?:is )?(?:coming )?(?:from|out of)\b",
        r"\bsmoking (?:outlet|panel|breaker|switch|wire)",
        r"\b(?:outlet|panel|breaker|box|switch|wires?|plug) (?:is |are )?(?:smoking|on fire)\b",
        r"\b(?:electrical|wire|wiring|outlet|panel) fire\b",
        r"\bsparks? (?:are )?(?:coming |flying )?(?:from|out of)\b",
        r"\b(?:sparking|sparks)\b",
        r"\bexposed (?:live )?wires?\b",
    ),
    "flooding": (
        r"\bburst(?:ed)? (?:water )?pipe\b",
        r"\bpipe (?:has )?(?:burst|broke|broken|exploded|split)\b",
        r"\bflood(?:ing|ed)?\b",
        r"\bwater (?:is )?everywhere\b",
        r"\bwater (?:is )?(?:pouring|gushing|spraying|coming) (?:in|out|through|from|down)",
        r"\bcan(?:'t| ?not) (?:turn|shut) (?:the |off the )?water\b",
        r"\bsewage (?:is )?(?:backing|coming) up\b",
    ),
}

# "No heat" becomes an emergency only together with one of these.
NO_HEAT_PATTERNS: tuple[str, ...] = (
    r"\bno heat\b",
    r"\b(?:heat|heater|heating|furnace) (?:is |has )?(?:out|off|dead|gone|died|quit|broken)\b",
    r"\b(?:heat|heater|heating|furnace) (?:is )?(?:not|isn't|won't|wont|doesn't|does not|will not) "
    r"(?:work|working|come on|turn on|start|kick on|heat|heating)",
    r"\bno (?:heating|warm air)\b",
)
FREEZING_PATTERNS: tuple[str, ...] = (
    r"\bfreez(?:ing|e)\b",
    r"\bbelow (?:zero|freezing)\b",
    r"\bsnow(?:ing|storm)?\b",
    r"\bice storm\b",
    r"\bpipes? (?:are |might )?(?:going to )?freez",
)
# "It's 20 degrees": at or under this temperature (°F) with no heat is an emergency.
FREEZING_DEGREES = 45

# Words that, shortly before an emergency phrase, deny it ("I don't smell gas anymore").
NEGATIONS = (
    "don't",
    "dont",
    "do not",
    "doesn't",
    "does not",
    "didn't",
    "no longer",
    "not",
    "never",
    "can't",
    "isn't",
    "no",
)

SAFETY_INSTRUCTIONS: dict[str, str] = {
    "gas": (
        "If you smell gas, leave the house now, don't switch anything on or off, and call the "
        "gas company or 911 from outside."
    ),
    "carbon_monoxide": (
        "If your carbon monoxide alarm is going off, get everyone outside into fresh air now, "
        "leave the door open behind you, and call 911 if anyone feels dizzy or sick."
    ),
    "flooding": (
        "If it's safe to reach, turn off the main water valve now, stay away from any outlets or "
        "appliances near the water, and turn the power off at the breaker only if you can do it "
        "from a dry place."
    ),
    "electrical_fire": (
        "If you see sparks, smoke or smell burning, don't touch the outlet or the panel. If there "
        "is smoke or fire, get everyone out and call 911 from outside; otherwise switch that "
        "breaker off only if you can do it safely."
    ),
    "no_heat_freezing": (
        "Until we get there, keep everyone in one warm room, use safe space heaters only, never "
        "the oven or a grill, and let faucets drip so the pipes don't freeze."
    ),
}

# --- Intents ----------------------------------------------------------------------------------
PERSON_PATTERNS: tuple[str, ...] = (
    r"\b(?:representative|operator|receptionist|dispatcher)\b",
    r"\bhuman\b",
    r"\b(?:real|live|actual) (?:person|human|agent|people)\b",
    r"\b(?:a|another) person\b",
    r"^(?:person|agent|people)(?: please)?$",
    r"\b(?:speak|talk|chat) (?:to|with) (?:someone|somebody|anyone|anybody|a person|a human|"
    r"an agent|a manager|the manager|the owner|the office|a technician|someone in the office|"
    r"a live)",
    r"\bput me through\b",
    r"\btransfer me\b",
    r"\bsomeone in the office\b",
)

CANCEL_PATTERNS: tuple[str, ...] = (
    r"\bcancel(?:l?ing|l?ed|lation)?\b",
    r"\bcall off\b",
    r"\bdon't need (?:you|the|a|anyone|somebody|someone)\b.*\b(?:anymore|any more|after all)\b",
    r"\bno longer need\b",
    r"\bdon't (?:come|send)\b",
)
RESCHEDULE_PATTERNS: tuple[str, ...] = (
    r"\bre ?schedul(?:e|ing)\b",
    r"\b(?:move|change|push|shift|bump) (?:back |up )?(?:my|the|our) "
    r"(?:appointment|visit|booking|time)\b",
    r"\b(?:move|push|shift|bump) it\b",
    r"\bdifferent (?:day|time|date)\b",
    r"\b(?:do|make it|switch to|come) .*\binstead\b",
    r"\binstead\b",
    r"\bcan't make (?:it|the appointment|that)\b",
    r"\bwon't be (?:home|there|around)\b",
)
BILLING_PATTERNS: tuple[str, ...] = (
    r"\b(?:bill|billing|billed|invoice|invoices|statement|receipt)\b",
    r"\bcharged?\b",
    r"\bcharges\b",
    r"\b(?:refund|payment|pay|paid|balance|overcharged|credit card)\b",
    r"\bhow much (?:do|did) i owe\b",
)
# A question about the caller's own account: what they owe, were charged or paid. Checked before
# PRICE_PATTERNS, so "how much do I owe?" and "how much is my bill?" are never read as a price
# question (a balance is read only to a disclosed caller; a price to anyone).
BALANCE_PATTERNS: tuple[str, ...] = (
    r"\bow(?:e|es|ed|ing)\b",
    r"\b(?:my|our) (?:bill|bills|invoice|invoices|balance|statement|account|payment|payments|"
    r"receipt|last bill)\b",
    r"\bcharges? on (?:my|our|the)\b",
    r"\bthe (?:bill|invoice|statement|balance)\b",
    r"\b(?:balance|outstanding|past due|overdue|refund|overcharged|double charged)\b",
    r"\b(?:i|we|you) (?:was|were|got|have been|been|get|getting) (?:charged|billed)\b",
    r"\b(?:charged|billed) (?:me|us|my|our|twice)\b",
    r"\bhow much (?:was|were|did)\b",  # the past: what they were charged, not a price
    r"\bhow much (?:do|should|must|will) (?:i|we) (?:still )?(?:have to |need to )?pay\b(?! for)",
    r"\b(?:make|made) (?:a|my|the) payment\b",
    r"\bpay (?:my|the|our|a) (?:bill|balance|invoice)\b",
)
# What something costs: "how much is a tune-up?", "what's your service call fee?", "what do you
# charge to fix an AC?". Unless it is a balance question (BALANCE_PATTERNS), the agent answers
# from the organisation's price book and never makes a number up.
PRICE_PATTERNS: tuple[str, ...] = (
    # Not "how much longer", nor "how much water is on the floor": a wait or a symptom.
    r"\bhow much\b(?! (?:longer|time|later|sooner|earlier|more time|notice|of a wait|water|"
    r"heat|air|noise|power|gas|smoke|pressure|ice|damage)\b)",
    r"\bhow expensive\b",
    r"\b(?:price|prices|pricing|priced|cost|costs|rate|rates|fee|fees)\b",
    r"\b(?:what|do|does|would|will) (?:you|y'all|they|u)(?: guys| all| folks)? (?:charge|get) "
    r"(?:for|to)\b",
    r"\bwhat (?:do|does|would|will) (?:you|y'all|they|u)(?: guys| all| folks)? charge\b",
    r"\b(?:do|does|would|will) (?:you|they)(?: guys)? charge\b",
    r"\b(?:the|your|a) charge (?:for|to|of)\b",
    r"\bwhat (?:will|would|does|is)\b.*\b(?:run|set) (?:me|us)\b",
    r"\b(?:trip|service|diagnostic|call ?out|visit) (?:charge|fee)s?\b",
    r"\b(?:is there|do you have|any) (?:a |an )?(?:extra |additional )?charge\b",
    r"\bballpark\b",
)
# Words of a price question that name nothing: what is left once they are taken out says what
# the caller asks about ("how much do you charge to fix an AC" -> "fix ac").
PRICE_FILLER = frozenset(
    _words_of(
        """how much what what's whats is are was does do would will you y'all u guys all folks
    charge charges charging cost costs costing price prices pricing priced rate rates fee fees
    about roughly approximately around ballpark typically usually normally average generally
    run set me it it's that this those these one be gonna going for to your the a an of
    expensive just can could tell please get got i i'd i'm we our us my like know want wanted
    wondering wonder need so well um uh hi hello okay ok also and then there quick question
    ask asking much visit appointment job thing kind sort cheap pay"""
    )
)
# Words that ask what a visit costs before any work: the service-call or diagnostic fee.
FEE_PATTERNS: tuple[str, ...] = (
    r"\bservice (?:call|charge|visit)\b",
    r"\bdiagnos(?:is|tic|tics|e|ing)\b",
    r"\btrip (?:charge|fee)\b",
    r"\bcall ?out\b",
    r"\bvisit fee\b",
    r"\b(?:just |only )?(?:to |for )?(?:come|coming) (?:out|over|by)\b",
    r"\b(?:to |for )(?:look|take a look|check)\b",
)
# How the fee is found in price-book names, in the order an answer prefers them.
FEE_NAMES: tuple[str, ...] = ("service call", "diagnostic", "call-out", "call out")
BOOK_PATTERNS: tuple[str, ...] = (
    r"\b(?:book|schedule|set up|make) (?:an? |the |my )?(?:appointment|visit|service|tune up|"
    r"technician|tech|someone)\b",
    r"\bschedul(?:e|ing)\b",
    r"\bbook\b",
    r"\b(?:need|want|get|send) (?:someone|somebody|a tech|a technician|a plumber|an electrician|"
    r"a repair|you guys|you)\b",
    r"\b(?:come out|come look|take a look|look at|check (?:on|out))\b",
    r"\b(?:do|can|could) you (?:guys )?(?:work on|service|fix|repair|install|handle|clean)\b",
    r"\b(?:broken|broke|not working|isn't working|stopped working|won't|doesn't work|leak|"
    r"leaking|clogged|repair|fix|tune up|maintenance|install|replace|estimate|quote)\b",
)

# Checked before YES: these contain a yes-word but mean no.
NO_PHRASES: tuple[str, ...] = (
    r"\bnot (?:right|correct|quite|really|exactly|it|that|the same)\b",
    r"\b(?:that's|that is|it's|it is|isn't|is not) (?:not )?(?:wrong|incorrect)\b",
    r"\bisn't (?:right|correct|it)\b",
    r"\bdifferent (?:address|location|place|house|property)\b",
    r"\bnone of (?:those|them|these)\b",
    r"\b(?:neither|nope|nah|naw|negative)\b",
    r"\bno\b",
    r"\b(?:that's|that is) (?:all|everything|it for now)\b",
    r"\bnothing (?:else|more)\b",
    r"\bi'm (?:good|all set|fine)\b",
    r"\bwe're (?:good|all set)\b",
    r"\bdon't think so\b",
    r"\bthose don't work\b",
    r"\b(?:doesn't|don't|won't) work\b",
)
YES_PHRASES: tuple[str, ...] = (
    r"\b(?:yes|yeah|yea|yep|yup|ya|yah|sure|correct|right|exactly|absolutely|definitely|"
    r"certainly|affirmative|perfect|okay|ok|alright|fine)\b",
    r"\buh huh\b",
    r"\bmm hmm\b",
    r"\bthat's (?:it|me|the one|good|great)\b",
    r"\bsounds (?:good|great|fine)\b",
    r"\b(?:go ahead|please do|of course|it is|i do|that works|works for me|same (?:place|"
    r"address|location|house|one))\b",
)

# --- Slot choice ------------------------------------------------------------------------------
ORDINALS: dict[str, int] = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
}
LAST_WORDS = ("last", "latter", "final")  # "later" asks for other times
# "Either one is fine": the first offered, the soonest.
ANY_OF_THEM = (
    r"\b(?:either|whichever|any of (?:them|those|these)|either of them|doesn't matter|"
    r"don't care|(?:both|all) (?:work|are fine|are good))\b"
)
CARDINALS: dict[str, int] = {"one": 0, "two": 1, "three": 2, "four": 3, "1": 0, "2": 1, "3": 2}
DAY_PARTS: dict[str, tuple[str, ...]] = {
    "morning": ("morning", "am", "a m"),
    "afternoon": ("afternoon", "pm", "p m"),
    "evening": ("evening", "tonight"),
}
WEEKDAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# Time expressions a caller uses to ask for other times; what `preference_text` keeps.
PREFERENCE_PATTERN = (
    r"\b(?:(?:next|this|on|the) )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"(?: (?:morning|afternoon|evening))?\b"
    r"|\b(?:next|this|the following) (?:week|weekend)\b"
    r"|\b(?:day after )?tomorrow(?: (?:morning|afternoon|evening))?\b"
    r"|\btoday\b|\btonight\b|\bweekends?\b|\bweekdays?\b"
    r"|\b(?:after|before|by|until|from|not before|later than) (?:noon|lunch|\d{1,2}(?::\d{2})?"
    r"(?: ?[ap]m)?)\b"
    r"|\bbetween \d{1,2}(?: ?[ap]m)? and \d{1,2}(?: ?[ap]m)?\b"
    r"|\b(?:in the )?(?:morning|afternoon|evening)s?\b"
    r"|\bthe \d{1,2}(?:st|nd|rd|th)\b"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december) \d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b(?:as soon as possible|asap|earliest|soonest|first available)\b"
)
# Words that make an utterance a request for other times rather than a pick among the offer.
ASKING_FOR_OTHER = (
    r"\b(?:anything|something|any|anytime|other|another|else|later|earlier|instead|"
    r"do you have|is there|are there|got)\b"
)

# --- Service understanding --------------------------------------------------------------------
# Symptoms callers describe → (category, kind). A hint, not an answer: the catalogue decides.
SYMPTOMS: dict[str, tuple[str, str]] = {
    "blowing warm air": ("hvac", "repair"),
    "blowing hot air": ("hvac", "repair"),
    "blowing cold air": ("hvac", "repair"),
    "not cooling": ("hvac", "repair"),
    "won't cool": ("hvac", "repair"),
    "not blowing cold": ("hvac", "repair"),
    "not heating": ("hvac", "repair"),
    "no heat": ("hvac", "repair"),
    "no air": ("hvac", "repair"),
    "no ac": ("hvac", "repair"),
    "banging when it kicks on": ("hvac", "repair"),
    "banging": ("hvac", "repair"),
    "rattling": ("hvac", "repair"),
    "squealing": ("hvac", "repair"),
    "short cycling": ("hvac", "repair"),
    "frozen coil": ("hvac", "repair"),
    "iced up": ("hvac", "repair"),
    "water everywhere": ("plumbing", "emergency"),
    "burst pipe": ("plumbing", "emergency"),
    "no hot water": ("plumbing", "repair"),
    "hot water": ("plumbing", "repair"),
    "leaking": ("plumbing", "repair"),
    "dripping": ("plumbing", "repair"),
    "clogged": ("plumbing", "repair"),
    "clogged drain": ("plumbing", "repair"),
    "backed up": ("plumbing", "repair"),
    "backing up": ("plumbing", "repair"),
    "won't drain": ("plumbing", "repair"),
    "slow drain": ("plumbing", "repair"),
    "running toilet": ("plumbing", "repair"),
    "breaker keeps tripping": ("electrical", "repair"),
    "tripping": ("electrical", "repair"),
    "outlet sparking": ("electrical", "repair"),
    "sparked": ("electrical", "repair"),
    "flickering": ("electrical", "repair"),
    "no power": ("electrical", "repair"),
    "lost power": ("electrical", "repair"),
    "dead outlet": ("electrical", "repair"),
    "burning smell": ("electrical", "emergency"),
    "shingles": ("roofing", "repair"),
    "roof leak": ("roofing", "repair"),
    "roof is leaking": ("roofing", "repair"),
}
# Things in the house → category. Longest first at use.
EQUIPMENT_CATEGORY: dict[str, str] = {
    "air conditioner": "hvac",
    "air conditioning": "hvac",
    "ac": "hvac",
    "a c": "hvac",
    "hvac": "hvac",
    "furnace": "hvac",
    "heater": "hvac",
    "heat pump": "hvac",
    "heating": "hvac",
    "cooling": "hvac",
    "thermostat": "hvac",
    "vents": "hvac",
    "ducts": "hvac",
    "condenser": "hvac",
    "compressor": "hvac",
    "cooler": "hvac",
    "freezer": "hvac",
    "ice machine": "hvac",
    "water heater": "plumbing",
    "hot water heater": "plumbing",
    "tankless": "plumbing",
    "sink": "plumbing",
    "toilet": "plumbing",
    "drain": "plumbing",
    "faucet": "plumbing",
    "pipe": "plumbing",
    "pipes": "plumbing",
    "shower": "plumbing",
    "tub": "plumbing",
    "bathtub": "plumbing",
    "sewer": "plumbing",
    "garbage disposal": "plumbing",
    "disposal": "plumbing",
    "plumbing": "plumbing",
    "plumber": "plumbing",
    "breaker": "electrical",
    "breakers": "electrical",
    "outlet": "electrical",
    "outlets": "electrical",
    "panel": "electrical",
    "fuse": "electrical",
    "wiring": "electrical",
    "lights": "electrical",
    "light": "electrical",
    "switch": "electrical",
    "ceiling fan": "electrical",
    "generator": "electrical",
    "ev charger": "electrical",
    "electrician": "electrical",
    "electrical": "electrical",
    "gfci": "electrical",
    "roof": "roofing",
    "gutter": "roofing",
    "gutters": "roofing",
}
# Things callers name that belong to trades outside heating, cooling, plumbing, electrical and
# roofing (thing → trade). Read together with EQUIPMENT_CATEGORY, longest phrase first, so a
# "solar panel" is not also an electrical "panel" nor a "pool heater" a furnace.
OTHER_TRADE_THINGS: dict[str, str] = {
    "water softener": "water_treatment",
    "softener": "water_treatment",
    "water filtration": "water_treatment",
    "reverse osmosis": "water_treatment",
    "pool": "pool",
    "pool pump": "pool",
    "pool heater": "pool",
    "pool filter": "pool",
    "swimming pool": "pool",
    "hot tub": "pool",
    "hot tub heater": "pool",  # its heater is the hot tub's, not a furnace
    "hot tub pump": "pool",
    "jacuzzi": "pool",
    "solar": "solar",
    "solar panel": "solar",
    "solar panels": "solar",
    "septic": "septic",
    "septic tank": "septic",
    "septic system": "septic",
    "garage door": "garage_door",
    "garage door opener": "garage_door",
    "dishwasher": "appliance",
    "refrigerator": "appliance",
    "fridge": "appliance",
    "washing machine": "appliance",
    "microwave": "appliance",
    "chimney": "chimney",
    "termites": "pest_control",
    "pest control": "pest_control",
    "roaches": "pest_control",
    "sprinkler system": "irrigation",
    "sprinklers": "irrigation",
    "irrigation": "irrigation",
}
# Phrases in which a thing's word names no thing: "a pool of water on the floor".
NOT_THINGS: tuple[str, ...] = ("pool of", "pools of", "car pool", "carpool")
# Words that, in a service's name or spoken synonyms, make an organisation cover a trade (one
# with a "Pool service" serves pool pumps). A thing is covered too when a service names it, and
# a trade of CATEGORY_CHOICES when the catalogue has a service in that category.
TRADE_WORDS: dict[str, tuple[str, ...]] = {
    "water_treatment": ("softener", "water treatment", "water filtration", "reverse osmosis"),
    "pool": ("pool", "hot tub", "spa"),
    "solar": ("solar",),
    "septic": ("septic",),
    "garage_door": ("garage door",),
    "appliance": ("appliance", "appliances"),
    "chimney": ("chimney",),
    "pest_control": ("pest", "termite", "termites"),
    "irrigation": ("sprinkler", "sprinklers", "irrigation"),
}
# How the agent says a trade it does not cover: "I'm sorry, we don't handle ___".
TRADE_SPOKEN: dict[str, str] = {
    "water_treatment": "water softeners or water treatment",
    "pool": "pools, hot tubs or their equipment",
    "solar": "solar panels",
    "septic": "septic systems",
    "garage_door": "garage doors",
    "appliance": "household appliances",
    "chimney": "chimneys",
    "pest_control": "pest control",
    "irrigation": "sprinkler or irrigation systems",
    "hvac": "heating and cooling",
    "plumbing": "plumbing",
    "electrical": "electrical work",
    "roofing": "roofs or gutters",
    "general": "that kind of work",
}
# Words that say what kind of visit it is.
# Names of one kind of equipment, for matching what the caller named with a service's name.
EQUIPMENT_SAME: dict[str, str] = {
    "air conditioner": "ac",
    "air conditioning": "ac",
    "a c": "ac",
    "cooling": "ac",
    "hot water heater": "water heater",
    "tankless": "water heater",
    "heating": "furnace",
    "heater": "furnace",
    "pipes": "pipe",
    "breakers": "breaker",
    "outlets": "outlet",
    "bathtub": "tub",
    "disposal": "garbage disposal",
}

KIND_WORDS: dict[str, str] = {
    "tune up": "maintenance",
    "tuneup": "maintenance",
    "maintenance": "maintenance",
    "check up": "maintenance",
    "checkup": "maintenance",
    "checked": "maintenance",
    "looked at": "repair",
    "yearly": "maintenance",
    "annual": "maintenance",
    "seasonal": "maintenance",
    "service my": "maintenance",
    "flush": "maintenance",
    "cleaning": "maintenance",
    "install": "installation",
    "installed": "installation",
    "installation": "installation",
    "replace": "installation",
    "replacement": "installation",
    "replaced": "installation",
    "new": "installation",
    "upgrade": "installation",
    "estimate": "inspection",
    "quote": "inspection",
    "inspection": "inspection",
    "inspect": "inspection",
    "second opinion": "inspection",
    "how much": "inspection",
    "broken": "repair",
    "quit": "repair",
    "died": "repair",
    "dead": "repair",
    "stopped": "repair",
    "broke": "repair",
    "not working": "repair",
    "isn't working": "repair",
    "stopped working": "repair",
    "won't": "repair",
    "doesn't": "repair",
    "repair": "repair",
    "fix": "repair",
    "leaking": "repair",
    "noise": "repair",
    "clogged": "repair",
}
# Words that carry no meaning when comparing a caller's words with a synonym.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "our",
        "is",
        "are",
        "was",
        "it",
        "its",
        "it's",
        "to",
        "of",
        "on",
        "in",
        "at",
        "for",
        "and",
        "or",
        "with",
        "from",
        "my",
        "i",
        "i'm",
        "me",
        "we",
        "this",
        "that",
        "there",
        "there's",
        "up",
    ]
)
# Kinds of the same category that a word list can't tell apart reliably ("my furnace"): the
# brain lowers its confidence when the best and the runner-up differ only in kind.
AMBIGUITY_MARGIN = 0.08
