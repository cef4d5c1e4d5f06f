//! The closed word classes the detector's rules use, each with a line on why it exists.

// Chat spellings and apostrophe-less forms mapped to standard spellings (may expand to 2+ words).
#[rustfmt::skip]
pub(super) const CHAT_SPELLINGS: &[(&str, &str)] = &[
    ("u", "you"), ("ya", "you"), ("r", "are"), ("ur", "your"), ("yr", "your"), ("wat", "what"),
    ("wut", "what"), ("wot", "what"), ("wht", "what"), ("whats", "what's"), ("wats", "what's"),
    ("wuts", "what's"), ("hows", "how's"), ("wheres", "where's"), ("whos", "who's"),
    ("thats", "that's"), ("theres", "there's"), ("wanna", "want to"), ("gonna", "going to"),
    ("gotta", "got to"), ("hafta", "have to"), ("plz", "please"), ("pls", "please"),
    ("plse", "please"), ("pleez", "please"), ("dont", "don't"), ("doesnt", "doesn't"),
    ("didnt", "didn't"), ("cant", "can't"), ("wont", "won't"), ("isnt", "isn't"),
    ("arent", "aren't"), ("wasnt", "wasn't"), ("werent", "weren't"), ("havent", "haven't"),
    ("hasnt", "hasn't"), ("hadnt", "hadn't"), ("couldnt", "couldn't"), ("shouldnt", "shouldn't"),
    ("wouldnt", "wouldn't"), ("aint", "not"), ("im", "i'm"), ("ive", "i've"), ("youre", "you're"),
    ("idk", "i don't know"), ("dunno", "don't know"), ("cannot", "can not"), ("thx", "thanks"),
    ("thanx", "thanks"), ("thnx", "thanks"), ("ty", "thanks"), ("any1", "anyone"),
    ("ne1", "anyone"), ("every1", "everyone"), ("some1", "someone"), ("sum1", "someone"),
    ("ppl", "people"), ("yall", "y'all"), ("k", "ok"), ("kk", "ok"), ("okay", "ok"),
    ("cuz", "because"), ("coz", "because"), ("abt", "about"), ("whys", "why's"),
    ("wtf", "what the fuck"), ("ain't", "not"),
];

// Words whose "'s" is "is" ("what's"); on other words "'s" is a possessive and is dropped.
#[rustfmt::skip]
pub(super) const IS_CONTRACTIBLE: &[&str] = &[
    "what", "how", "where", "who", "when", "why", "that", "it", "there", "here", "he", "she",
    "this", "everything", "everyone", "something", "nothing",
];

// Question words that open wh-questions.
#[rustfmt::skip]
pub(super) const WH_WORDS: &[&str] = &[
    "what", "why", "how", "where", "when", "who", "which", "whom", "whose",
];

// Auxiliaries, grouped by the subjects they agree with, so "do you" inverts but "do it" is an
// imperative and "is there" inverts but "is good" is an elided statement.
pub(super) const AUX_NON_3SG: &[&str] = &["do", "have"];

// Auxiliaries taking a third person singular subject ("does it", "is there").
pub(super) const AUX_3SG: &[&str] = &["does", "has", "is", "was"];

// Auxiliaries taking a plural or second person subject ("are you", "were they").
pub(super) const AUX_PLURAL: &[&str] = &["are", "were"];

// Modals (and "did") that take any subject ("can i", "did it").
#[rustfmt::skip]
pub(super) const AUX_MODAL: &[&str] = &[
    "can", "could", "will", "would", "should", "shall", "may", "might", "must", "did",
];

// Auxiliaries that ask a question before a bare noun subject too ("does france use a
// converter", "are visas needed"). The others open elided statements in chat: "is watching",
// "will send it", "has to go", "do it", "can hear the waves"; modals count before an article
// only ("would a converter be needed").
pub(super) const AUX_BEFORE_NOUNS: &[&str] = &["does", "are"];

// Articles: after "i need" they name a thing ("i need a routing number"), unlike "some".
pub(super) const ARTICLES: &[&str] = &["a", "an", "the"];

// Other auxiliary forms; they never open a question here but are skipped like auxiliaries.
pub(super) const AUX_OTHER: &[&str] = &["am", "had", "be", "been", "being"];

// Subjects for "do/have": plural, first and second person.
#[rustfmt::skip]
pub(super) const SUBJ_NON_3SG: &[&str] = &[
    "i", "you", "we", "they", "y'all", "people", "any", "some", "these", "those", "your", "our",
    "their", "my", "all",
];

// Subjects for "does/has/is/was": third person singular.
#[rustfmt::skip]
pub(super) const SUBJ_3SG: &[&str] = &[
    "it", "this", "that", "he", "she", "there", "anyone", "anybody", "anything", "someone",
    "somebody", "something", "everyone", "everybody", "everything", "the", "my", "your", "his",
    "her", "our", "their", "its", "any", "one", "nobody", "nothing",
];

// Subjects for "are/were".
#[rustfmt::skip]
pub(super) const SUBJ_PLURAL: &[&str] = &[
    "you", "we", "they", "y'all", "there", "the", "these", "those", "my", "your", "our", "their",
    "any", "all", "people", "some",
];

// Prepositions that can front a wh-phrase ("at what time", "in which file").
#[rustfmt::skip]
pub(super) const PREPOSITIONS: &[&str] = &[
    "at", "on", "in", "for", "from", "to", "with", "by", "about", "of", "since", "until", "into",
    "under",
];

// Openers standing for an elided "does/is": "anyone know ...", "any ideas", "any way to".
pub(super) const ELIDED_AUX_OPENERS: &[&str] = &["anyone", "anybody", "any"];

// Subject pronouns: a wh-word right before one starts a subordinate clause ("when i run it",
// "what it does") rather than a question.
#[rustfmt::skip]
pub(super) const SUBORDINATE_SUBJECTS: &[&str] = &[
    "i", "we", "they", "he", "she", "it", "this", "that", "there", "my", "his", "her", "our",
    "their", "its",
];

// Subjects that are people: their negated everyday verbs ("i can't go") are not a fault.
#[rustfmt::skip]
pub(super) const PERSONAL_SUBJECTS: &[&str] = &[
    "i", "you", "we", "they", "he", "she", "y'all", "me", "who", "people", "everyone", "everybody",
    "someone", "somebody", "nobody", "anyone", "anybody", "all",
];

// Wh-words that after a person's name start a relative clause ("User5 who is my friend").
pub(super) const RELATIVE_PRONOUNS: &[&str] = &["who", "whom", "whose"];

// Degree words making "how X" a question ("how many", "how long") rather than "how cute".
#[rustfmt::skip]
pub(super) const HOW_DEGREE: &[&str] = &[
    "many", "much", "long", "often", "far", "old", "big", "come", "about", "to", "soon", "else",
    "exactly", "fast", "large", "small", "you", "y'all",
];

// Discourse fillers, interjections, laughter and address terms skipped at a clause's start.
#[rustfmt::skip]
pub(super) const FILLERS: &[&str] = &[
    "hey", "hi", "hello", "hiya", "yo", "ok", "so", "well", "oh", "ah", "um", "uh", "umm", "hmm",
    "hm", "lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "hehe", "heh", "omg", "wow", "and",
    "but", "also", "btw", "anyway", "anyways", "then", "guys", "all", "everyone", "everybody",
    "folks", "man", "dude", "sorry", "actually", "now", "quick", "question", "just", "y'all",
    "team", "yeah", "yes", "no", "nope", "alright", "right", "sir", "maam", "please", "babe", "hon",
    "honey", "dear", "bro", "sis", "buddy", "mate", "friends", "room", "again", "kindly",
];

// Reaction words that alone before a '?' are echoes or tags ("really?", "u?", "hello?").
#[rustfmt::skip]
pub(super) const ECHO_WORDS: &[&str] = &[
    "really", "seriously", "srsly", "you", "me", "no", "yes", "yeah", "huh", "eh", "right", "ok",
    "sure", "so", "and", "or", "lol", "hmm", "hm", "oh", "what", "wha", "hi", "hey", "hello", "bye",
    "yea",
];

// Laughter: a problem told with it is a joke or a story.
pub(super) const LAUGHTER: &[&str] = &["lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "hehe", "heh"];

// Verbs of private messaging ("pm me", "whisper me").
pub(super) const PRIVATE_MESSAGE_VERBS: &[&str] = &["pm", "dm", "im", "whisper", "msg", "message"];

// Greetings, thanks, goodbyes and praise: social moves (labelled small talk when not support).
#[rustfmt::skip]
pub(super) const SOCIAL_WORDS: &[&str] = &[
    "hi", "hello", "hey", "hiya", "howdy", "sup", "wassup", "wazzup", "morning", "evening",
    "afternoon", "gm", "gn", "welcome", "wb", "thanks", "thank", "cheers", "appreciated", "bye",
    "goodbye", "cya", "brb", "gtg", "g2g", "ttyl", "later", "goodnight", "night", "congrats",
    "congratulations", "kudos", "bravo", "nice", "great", "awesome",
];

// Well-being and "what's up" questions: small talk even with a question mark. One pattern per
// string, words separated by spaces, '|' separating alternatives for one slot.
#[rustfmt::skip]
pub(super) const PLEASANTRIES: &[&str] = &[
    "how are|were you|we|y'all|everyone|everybody|all|things",
    "how is|was it|everyone|everybody|everything|life|things|your|you",
    "how you|we doing|doin|been",
    "how have|has you|everyone|everybody|things been",
    "how do you do",
    "what is up|new|good",
    "what up",
    "sup|wassup|wazzup",
    "and|how|what you|yourself",
    "how|what about you",
    "where are you from",
    "are you there|ok|alright|around|here|awake|back|well",
    "you there|ok|alright|around|here|awake|back",
];

// Rhetorical questions, matched at the start of a clause like the pleasantries.
pub(super) const RHETORICAL: &[&str] = &["what can i say", "what was i thinking", "what else is new"];

// Words allowed after a pleasantry ("how are you doing today guys").
#[rustfmt::skip]
pub(super) const PLEASANTRY_TAIL: &[&str] = &[
    "doing", "doin", "going", "goin", "been", "today", "tonight", "this", "morning", "evening",
    "afternoon", "day", "night", "weekend", "week", "on", "up", "there", "in", "here", "now",
    "these", "days", "lately", "then", "you", "with", "all",
];

// Tasks whose failure ("i can't find the setting") is a problem when they bear on a thing.
#[rustfmt::skip]
pub(super) const TASK_VERBS: &[&str] = &[
    "find", "locate", "make", "do", "get", "use", "see", "change", "add", "remove", "reset",
    "set", "open", "edit", "complete", "finish", "cancel", "delete", "enable", "disable",
];

// Actions a speaker disowns when a record shows them ("a payment i didn't make").
#[rustfmt::skip]
pub(super) const DISOWNED_VERBS: &[&str] = &[
    "make", "do", "perform", "authorize", "authorise", "order", "request", "buy", "purchase",
    "approve", "initiate", "send", "withdraw", "recognize", "recognise", "sign", "commit", "push",
    "change", "create", "install", "enable",
];

// Failure vocabulary: a clause with one of these reports a problem.
#[rustfmt::skip]
pub(super) const FAILURE_WORDS: &[&str] = &[
    "error", "errors", "exception", "exceptions", "segfault", "segfaults", "segmentation",
    "traceback", "stacktrace", "crash", "crashes", "crashed", "crashing", "panicked", "panics",
    "bug", "bugs", "buggy", "fails", "failed", "failing", "failure", "failures", "broken",
    "timeout", "timeouts", "hangs", "freezes", "froze", "glitch", "glitches", "glitchy", "corrupt",
    "corrupted", "unresponsive", "stuck", "malfunction", "malfunctioning", "unsuccessful",
];

// Object pronouns: after "bug" they make it the verb "to annoy" ("don't bug me").
pub(super) const OBJECT_PRONOUNS: &[&str] = &["me", "him", "her", "us", "them", "em", "you", "it"];

// Words that negate the verb after them ("not", "never", "stopped working", "unable to").
#[rustfmt::skip]
pub(super) const NEGATORS: &[&str] = &[
    "not", "never", "unable", "nothing", "longer", "stopped", "stops", "quit",
];

// Verbs of functioning and delivery: negated they report a problem whatever the subject
// ("i can't connect", "it won't compile", "hasn't arrived").
#[rustfmt::skip]
pub(super) const FUNCTION_VERBS: &[&str] = &[
    "connect", "install", "compile", "build", "boot", "load", "launch", "respond", "sync", "arrive",
    "process", "update", "appear", "accept", "recognise", "recognize", "verify", "activate",
    "login", "download", "upload", "transfer", "withdraw", "deposit", "refund", "import", "export",
    "detect", "resolve", "execute", "render", "authenticate", "authorize", "authorise", "approve",
    "receive", "function", "access", "register", "unlock", "mount", "parse", "deploy", "post",
    "dispense", "credit", "built", "work",
];

// Everyday verbs that report a problem when negated only for a thing ("the app won't open",
// "it doesn't work") or for something the speaker owns ("i didn't get my refund"), not for
// a person ("i don't get it", "i can't go").
#[rustfmt::skip]
pub(super) const GENERIC_VERBS: &[&str] = &[
    "work", "start", "run", "open", "go", "come", "get", "see", "find", "use", "let", "show",
    "change", "happen", "play", "pay", "send", "save", "log", "sign", "display", "complete",
    "clear", "match", "print", "give", "have", "remember", "recall", "reach", "allow", "pick",
    "move", "turn", "stay", "went", "gone", "came", "got", "gotten", "ran", "sent", "shown", "seen",
    "found", "paid", "gave", "given", "began", "had", "has",
];

// Adverbs that may sit between subject, auxiliary and negation ("it still doesn't").
#[rustfmt::skip]
pub(super) const ADVERBS: &[&str] = &[
    "still", "just", "even", "really", "no", "also", "simply", "suddenly", "always", "ever", "yet",
    "anymore", "seem", "seems", "to", "be", "been", "being", "able", "here", "properly",
    "correctly", "at", "all",
];

// First-person possession: the speaker's own thing is affected ("my card", "our build").
pub(super) const OWNED: &[&str] = &["my", "our", "mine", "ours"];

// States that are wrong for a thing ("my card is missing", "a strange charge on my account");
// they need the speaker's possession or a thing as subject, since "you're weird" is chatter.
#[rustfmt::skip]
pub(super) const ADVERSE_WORDS: &[&str] = &[
    "wrong", "incorrect", "strange", "odd", "weird", "unknown", "unfamiliar", "unauthorized",
    "unauthorised", "fraudulent", "fraud", "suspicious", "duplicate", "duplicated", "twice",
    "extra", "missing", "lost", "stolen", "stole", "declined", "rejected", "denied", "blocked",
    "locked", "frozen", "pending", "expired", "overcharged", "charged", "hacked", "compromised",
    "disappeared", "vanished", "reverted", "unexpected", "delayed", "damaged", "cracked", "broke",
    "deleted", "disabled", "suspended", "invalid", "mistake", "problem", "problems", "issue",
    "issues", "trouble", "forgot", "forgotten", "cancelled", "canceled", "revoked", "gone",
];

// Adverse states that are unambiguous on their own ("there is an unauthorized fee").
#[rustfmt::skip]
pub(super) const STRONG_ADVERSE: &[&str] = &[
    "unauthorized", "unauthorised", "fraudulent", "duplicate", "duplicated", "overcharged",
    "declined", "pending", "reverted", "incorrect", "invalid", "hacked", "compromised",
    "unrecognized", "unrecognised", "suspicious",
];

// Faults of a thing named by a determiner phrase ("the rate is wrong", "the file is missing").
#[rustfmt::skip]
pub(super) const THING_FAULTS: &[&str] = &[
    "wrong", "incorrect", "missing", "lost", "stolen", "gone", "deleted", "blocked", "locked",
    "frozen", "pending", "expired", "delayed", "disabled", "suspended", "invalid", "empty", "blank",
    "outdated", "unavailable", "down", "off", "different", "duplicated", "corrupted", "broken",
];

// Verbs that link a thing to its state like a copula ("the rate looks wrong").
#[rustfmt::skip]
pub(super) const LINKING_VERBS: &[&str] = &[
    "looks", "seems", "appears", "looked", "seemed", "appeared", "shows", "showed",
];

// States whose negation is adverse ("the rate isn't correct").
#[rustfmt::skip]
pub(super) const GOOD_STATES: &[&str] = &[
    "correct", "right", "accurate", "successful", "valid", "working", "available",
];

// Passive adverse events that happen to the speaker ("i was charged twice", "i got declined").
#[rustfmt::skip]
pub(super) const ADVERSE_PASSIVE: &[&str] = &[
    "charged", "overcharged", "billed", "declined", "rejected", "denied", "refused", "blocked",
    "locked", "scammed", "hacked", "robbed", "mugged", "defrauded", "double",
];

// Nouns naming a problem ("having trouble with", "problem with the installer").
#[rustfmt::skip]
pub(super) const TROUBLE_NOUNS: &[&str] = &[
    "problem", "problems", "issue", "issues", "trouble", "difficulty", "difficulties", "mistake",
    "mistakes",
];

// Figures of speech built from trouble words ('|' separates alternatives for one slot).
#[rustfmt::skip]
pub(super) const FIGURATIVE: &[&str] = &[
    "broke|break|breaks|breaking my|your|his|her heart",
    "stuck in my|your|his|her head",
    "lost|losing my|your|his|her mind",
];

// Signals that a problem is solved ("that fixed it"), so failure words in the clause are history.
pub(super) const RESOLVED_WORDS: &[&str] = &["fixed", "solved", "resolved", "sorted", "nvm", "nevermind"];

// Service and technical actions: "i need to X", "please X", "X my Y" ask for help with them.
#[rustfmt::skip]
pub(super) const ACTION_VERBS: &[&str] = &[
    "know", "understand", "learn", "find", "figure", "check", "change", "update", "set", "reset",
    "cancel", "delete", "remove", "add", "order", "return", "get", "use", "install", "configure",
    "setup", "enable", "disable", "turn", "transfer", "send", "pay", "close", "open", "activate",
    "verify", "validate", "report", "fix", "upgrade", "downgrade", "migrate", "deploy", "run",
    "build", "compile", "top", "withdraw", "exchange", "refund", "link", "connect", "create",
    "edit", "move", "block", "freeze", "replace", "renew", "request", "apply", "receive", "track",
    "locate", "access", "recover", "restore", "import", "export", "load", "debug", "test",
    "integrate", "sign", "log", "register", "switch", "convert", "deposit", "choose", "confirm",
    "modify", "upload", "download", "sort", "dispute", "claim", "contact", "host", "rename",
    "share", "sync", "backup", "revert", "reverse", "clear", "limit", "increase", "decrease",
    "terminate", "prove", "skip", "prevent", "review", "correct", "regain", "unlock", "fill",
    "submit", "retrieve", "lock", "work", "make", "keep", "stop", "start", "see", "talk", "speak",
    "ask", "put",
];

// Verbs of knowing: "i want to know why", "i need to understand how" ask a question.
pub(super) const KNOWING_VERBS: &[&str] = &["know", "understand", "learn", "find", "figure", "check", "see"];

// Social performatives: "i'd like to thank" is not a request for help.
#[rustfmt::skip]
pub(super) const SOCIAL_VERBS: &[&str] = &[
    "thank", "say", "chat", "talk", "meet", "welcome", "introduce", "dance", "congratulate",
    "apologize", "apologise", "wish",
];

// Action verbs too common in chat to mark a request after "i want to / i need to"
// ("i want to talk", "i need to see that") unless their object is the speaker's own thing.
#[rustfmt::skip]
pub(super) const CHATTY_ACTIONS: &[&str] = &[
    "work", "make", "keep", "stop", "start", "see", "talk", "speak", "ask", "put", "get", "find",
    "know", "learn", "send", "use", "check", "pay",
];

// Prefixes that keep a verb an action ("reactivate", "unblock", "deactivate").
pub(super) const VERB_PREFIXES: &[&str] = &["re", "un", "de", "dis"];

// Imperatives that on their own ask for service ("cancel my order", "fix my contactless").
#[rustfmt::skip]
pub(super) const SERVICE_IMPERATIVES: &[&str] = &[
    "cancel", "delete", "remove", "reset", "fix", "activate", "close", "terminate", "block",
    "unblock", "freeze", "unfreeze", "refund", "change", "update", "verify", "restore", "recover",
    "unlock", "reverse", "revert", "transfer", "order", "replace", "renew", "install", "uninstall",
    "enable", "disable", "configure", "upgrade", "downgrade", "deactivate",
];

// Objects after a service imperative ("cancel my", "delete this").
pub(super) const IMPERATIVE_OBJECTS: &[&str] = &["my", "our", "this", "the", "these", "those"];

// First-person desire / need / attempt verbs ("i need to", "we want", "i'm trying to").
#[rustfmt::skip]
pub(super) const DESIRE_VERBS: &[&str] = &[
    "need", "needing", "want", "wanting", "like", "wish", "trying", "tried", "try", "attempted",
    "attempting", "looking", "require", "hoping", "appreciate",
];

// Nouns that make "i need X" a request ("i need help", "i want a refund").
#[rustfmt::skip]
pub(super) const REQUEST_NOUNS: &[&str] = &[
    "help", "assistance", "advice", "info", "information", "support", "refund", "answer", "answers",
    "explanation", "guidance", "details", "clarification", "hint", "hints", "pointer", "pointers",
    "tips", "docs", "documentation", "new", "another", "replacement", "way",
];

// Imperatives that ask for help ("help me", "explain why").
pub(super) const HELP_IMPERATIVES: &[&str] = &["help", "explain", "advise", "assist", "guide", "halp"];

// Imperatives that hand something to the speaker: with "me" and a thing they are a request
// ("give me my balance", "find me a hotel").
pub(super) const GIVING_IMPERATIVES: &[&str] = &["give", "find", "get", "send", "show", "tell", "book"];

// Imperatives that ask for information only with a wh/if complement ("tell me how").
pub(super) const INFO_IMPERATIVES: &[&str] = &["tell", "show", "teach", "remind"];

// Complements that turn "tell me X" / "not sure X" into an indirect question.
#[rustfmt::skip]
pub(super) const INDIRECT_COMPLEMENTS: &[&str] = &[
    "how", "what", "why", "where", "when", "which", "who", "if", "whether",
];
