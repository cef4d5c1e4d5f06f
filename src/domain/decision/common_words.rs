//! The everyday English words of small talk. A message whose words are all of these ("anyone
//! watching the match tonight?") is usually social; one with words outside it ("arm64",
//! "config", "refund") usually has a subject a support bot may know. Written for this project
//! from general knowledge of English, not taken from any data set.

#[rustfmt::skip]
pub const COMMON_WORDS: &[&str] = &[
    // people and address
    "i", "me", "my", "mine", "myself", "you", "your", "yours", "he", "him", "his", "she", "her", "hers", "we", "us", "our", "they",
    "them", "their", "it", "its", "this", "that", "these", "those", "who", "whom", "whose", "what", "which", "where", "when", "why",
    "how", "anyone", "anybody", "everyone", "everybody", "someone", "somebody", "nobody", "noone", "one", "people", "person", "guys",
    "guy", "girl", "girls", "boy", "boys", "man", "men", "woman", "women", "lady", "ladies", "dude", "bro", "sis", "friend",
    "friends", "mate", "buddy", "folks", "all", "yall", "ya", "u", "ur", "everything", "something", "anything", "nothing",
    // function words
    "a", "an", "the", "and", "or", "but", "so", "if", "then", "than", "because", "cause", "cuz", "as", "of", "to", "in", "on",
    "at", "by", "for", "from", "with", "without", "about", "into", "out", "up", "down", "over", "under", "off", "again", "too",
    "also", "just", "only", "very", "really", "pretty", "quite", "much", "many", "more", "most", "some", "any", "no", "not",
    "yes", "yeah", "yep", "nope", "nah", "ok", "okay", "well", "oh", "ah", "hey", "hi", "hello", "yo", "sup", "hiya", "bye",
    "there", "here", "now", "today", "tonight", "tomorrow", "yesterday", "soon", "later", "ago", "still", "yet", "already",
    "ever", "never", "always", "sometimes", "often", "maybe", "perhaps", "probably", "actually", "literally", "totally",
    "even", "else", "other", "another", "each", "every", "both", "own", "same", "such", "like", "lol", "lmao", "haha", "omg",
    // be, have, do, modals
    "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "done",
    "will", "would", "can", "could", "shall", "should", "may", "might", "must", "gonna", "wanna", "gotta", "let", "lets",
    // everyday verbs
    "go", "goes", "going", "went", "gone", "come", "comes", "coming", "came", "get", "gets", "getting", "got", "make", "makes",
    "making", "made", "take", "takes", "took", "see", "sees", "seen", "saw", "watch", "watching", "watched", "look", "looking",
    "know", "knows", "knew", "think", "thinks", "thought", "feel", "feeling", "felt", "want", "wants", "wanted", "love", "loves",
    "loved", "like", "likes", "liked", "hate", "say", "says", "said", "tell", "told", "talk", "talking", "chat", "chatting",
    "hear", "heard", "eat", "eating", "ate", "drink", "drinking", "sleep", "sleeping", "slept", "play", "playing", "played",
    "live", "lives", "living", "work", "working", "worked", "enjoy", "enjoying", "wait", "waiting", "meet", "miss", "missed",
    "guess", "mean", "means", "hope", "wish", "agree", "laugh", "dance", "sing", "listen", "listening", "read", "reading",
    "stay", "leave", "leaving", "left", "back", "join", "joined", "welcome", "thanks", "thank", "thx", "ty", "please", "sorry",
    // everyday nouns and adjectives of small talk
    "time", "day", "days", "night", "morning", "evening", "afternoon", "week", "weekend", "month", "year", "years", "life",
    "home", "house", "family", "mom", "dad", "kids", "kid", "baby", "dog", "cat", "pet", "school", "job", "boss", "class",
    "weather", "rain", "sun", "snow", "cold", "hot", "warm", "summer", "winter", "spring", "fall", "holiday", "holidays",
    "party", "birthday", "christmas", "movie", "movies", "film", "show", "tv", "music", "song", "songs", "band", "game", "games",
    "match", "team", "football", "soccer", "basketball", "sport", "sports", "food", "pizza", "coffee", "tea", "beer", "lunch",
    "dinner", "breakfast", "city", "town", "country", "place", "world", "way", "thing", "things", "stuff", "lot", "bit",
    "good", "great", "nice", "cool", "awesome", "amazing", "fun", "funny", "bad", "sad", "happy", "glad", "tired", "bored",
    "boring", "busy", "crazy", "weird", "cute", "hot", "old", "new", "young", "big", "little", "small", "long", "best", "better",
    "worse", "worst", "sure", "right", "true", "real", "first", "last", "next", "few", "whole", "favorite", "favourite", "beautiful",
    "two", "three", "age", "sex", "location", "asl", "here", "everyones", "else", "room", "chatroom", "name", "names",
];
