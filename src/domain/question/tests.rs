//! Table-driven cases for the detector, named as sentences.

use super::{Detection, Reason, SUPPORT_ORDER, detect};

/// Run a table of `(message, is_support, reason)` and report every mismatch at once.
fn check(cases: &[(&str, bool, Reason)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(text, is_support, reason)| {
            let got = detect(text);
            let want = Detection { is_support, reason };
            (got != want).then(|| format!("{text:?}: got {got:?}, want {want:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_thank_you_is_not_a_question() {
    check(&[
        ("thanks!", false, Reason::SmallTalk),
        ("thanks, that fixed it", false, Reason::SmallTalk),
        ("thank you so much for the quick answer", false, Reason::SmallTalk),
        ("ty", false, Reason::SmallTalk),
        ("Fixed in the latest version, thanks!", false, Reason::SmallTalk),
        ("thanks, that fixed the error", false, Reason::SmallTalk),
    ]);
}

#[test]
fn a_problem_report_without_question_mark_is_support() {
    check(&[
        ("my build fails on ARM", true, Reason::ProblemReport),
        ("getting a segfault when I run it", true, Reason::ProblemReport),
        ("the docker image won't start", true, Reason::ProblemReport),
        ("can't connect to postgres", true, Reason::ProblemReport),
        ("my config file isn't being picked up", true, Reason::ProblemReport),
        ("I still haven't received my card", true, Reason::ProblemReport),
        ("npm install throws an error about peer deps", true, Reason::ProblemReport),
        ("sync stopped working yesterday", true, Reason::ProblemReport),
        ("password reset email never arrives", true, Reason::ProblemReport),
        ("there's a problem with the arm64 image", true, Reason::ProblemReport),
        ("the exchange rate applied to my payment is wrong", true, Reason::ProblemReport),
        ("I was charged twice", true, Reason::ProblemReport),
    ]);
}

#[test]
fn a_question_without_question_mark_is_support() {
    check(&[
        ("is there a way to disable telemetry", true, Reason::Interrogative),
        ("how do I change the default port", true, Reason::Interrogative),
        ("anyone know why cargo check is so slow", true, Reason::Interrogative),
        ("does this work on windows", true, Reason::Interrogative),
        ("which version supports postgres 16", true, Reason::Interrogative),
        ("Could someone review my PR", true, Reason::Interrogative),
        ("at what time does the nightly build run", true, Reason::Interrogative),
        ("after the upgrade what are the new defaults", true, Reason::Interrogative),
    ]);
}

#[test]
fn a_question_mark_marks_a_question() {
    check(&[
        ("ubuntu or debian?", true, Reason::QuestionMark),
        ("so the cache lives in /tmp?", true, Reason::QuestionMark),
        ("you coming to the meetup, alice?", true, Reason::QuestionMark),
    ]);
}

#[test]
fn a_request_for_help_is_support() {
    check(&[
        ("help me configure the webhook", true, Reason::Request),
        ("tell me how to reset my password", true, Reason::Request),
        ("I'm trying to set up SSO with okta", true, Reason::Request),
        ("I need to migrate from v1 to v2", true, Reason::Request),
        ("I would like to export my data", true, Reason::Request),
        ("not sure how to enable dark mode", true, Reason::Request),
        ("please cancel my subscription", true, Reason::Request),
        ("help", true, Reason::Request),
    ]);
}

#[test]
fn chat_spellings_are_understood() {
    check(&[
        ("wat does this flag do", true, Reason::Interrogative),
        ("r there docs for the REST api", true, Reason::Interrogative),
        ("can u tell me where the config lives", true, Reason::Interrogative),
        ("i cant login since the update", true, Reason::ProblemReport),
        ("plz help, the bot keeps crashing", true, Reason::Request),
        ("im trying to install it on my pi", true, Reason::Request),
        ("it doesnt work with python 3.12", true, Reason::ProblemReport),
    ]);
}

#[test]
fn greetings_farewells_and_praise_are_small_talk() {
    check(&[
        ("hi all", false, Reason::SmallTalk),
        ("good morning everyone", false, Reason::SmallTalk),
        ("nice work on the release!", false, Reason::SmallTalk),
        ("brb", false, Reason::SmallTalk),
        ("gn everyone", false, Reason::SmallTalk),
        ("welcome to the server!", false, Reason::SmallTalk),
    ]);
}

#[test]
fn small_talk_questions_are_not_support() {
    check(&[
        ("how are you?", false, Reason::SmallTalk),
        ("hey, how's it going", false, Reason::SmallTalk),
        ("whats up everyone", false, Reason::SmallTalk),
        ("hiya, how r u today?", false, Reason::SmallTalk),
        ("good thanks, and you?", false, Reason::SmallTalk),
    ]);
}

#[test]
fn chatter_and_acknowledgements_are_ignored() {
    check(&[
        ("lol", false, Reason::Chatter),
        ("ok that works", false, Reason::Chatter),
        ("+1", false, Reason::Chatter),
        ("haha that's hilarious", false, Reason::Chatter),
        ("I don't know", false, Reason::Chatter),
        ("can't wait for the next release", false, Reason::Chatter),
        ("why not", false, Reason::Chatter),
        ("what a release", false, Reason::Chatter),
        ("really?", false, Reason::Chatter),
        ("I'll try that tomorrow", false, Reason::Chatter),
        ("dont worry about it", false, Reason::Chatter),
    ]);
}

#[test]
fn a_small_talk_opener_does_not_hide_a_question() {
    check(&[
        ("hi all, my deploy fails with exit code 137", true, Reason::ProblemReport),
        ("how are you? also, where can i find the logs", true, Reason::Interrogative),
        ("morning! quick question: how do I pin a dependency", true, Reason::Interrogative),
        ("thanks! but it still doesn't work", true, Reason::ProblemReport),
    ]);
}

#[test]
fn urls_mentions_and_code_are_ignored() {
    check(&[
        ("<@123456> how do I rotate the token", true, Reason::Interrogative),
        ("@bob can you explain how the cache works", true, Reason::Interrogative),
        ("https://example.com/search?q=1", false, Reason::TooShort),
        ("see https://example.com/a?b=c lol", false, Reason::Chatter),
        ("`cargo build --release?`", false, Reason::TooShort),
        ("```\nError: boom?\n```", false, Reason::TooShort),
    ]);
}

#[test]
fn empty_and_symbol_only_messages_are_too_short() {
    check(&[
        ("", false, Reason::TooShort),
        ("   ", false, Reason::TooShort),
        ("?", false, Reason::TooShort),
        ("\u{1f44d}", false, Reason::TooShort),
        ("\u{1f389}\u{1f389}\u{1f389}", false, Reason::TooShort),
        ("...!!!", false, Reason::TooShort),
    ]);
}

#[test]
fn odd_and_huge_inputs_do_not_panic() {
    let huge_word = "a".repeat(100_000);
    let huge_sentence = "my build fails on arm ".repeat(5_000);
    let huge_punct = "?!.,".repeat(25_000);
    let huge_emoji = "\u{1F600}".repeat(25_000);
    let huge_mixed: String = (0..100_000u32).filter_map(|i| char::from_u32((i * 7919) % 0x2FFFF)).collect();
    let inputs = [
        "",
        "\0",
        "'",
        "''",
        "n't",
        "'s",
        "`",
        "```",
        "`` `",
        "<",
        "<@",
        "<@>",
        "@",
        "www.",
        "\u{130}\u{307}",
        "\u{202e}tset",
        "e\u{301}\u{301}\u{301}",
        "\r\n\r\n",
        "\u{2026}",
        "wont cant dont isnt",
        "not not not",
        "no longer",
        "i",
        "how",
        "what the hell",
        &huge_word,
        &huge_sentence,
        &huge_punct,
        &huge_emoji,
        &huge_mixed,
    ];
    for text in inputs {
        let d = detect(text);
        assert_eq!(d.is_support, SUPPORT_ORDER.contains(&d.reason), "{d:?}");
    }
    assert!(detect(&huge_sentence).is_support);
}

#[test]
fn detections_serialize_with_snake_case_reasons() {
    let json = serde_json::to_string(&detect("is there a way to disable telemetry")).unwrap();
    assert_eq!(json, r#"{"is_support":true,"reason":"interrogative"}"#);
    let json = serde_json::to_string(&Reason::TooShort).unwrap();
    assert_eq!(json, r#""too_short""#);
}
#[test]
fn disowning_a_recorded_action_is_a_problem_report() {
    check(&[
        ("there is a transaction on my account that i didnt make", true, Reason::ProblemReport),
        ("I see a cash withdrawal that I did not perform.", true, Reason::ProblemReport),
        ("I did not authorize this", true, Reason::ProblemReport),
        ("Payment i did not do", true, Reason::ProblemReport),
        ("a commit that I didn't push showed up on main", true, Reason::ProblemReport),
        ("The app says I withdrew cash and I didn't", true, Reason::ProblemReport),
        ("a charge that was not made by me", true, Reason::ProblemReport),
        ("i didnt do much today", false, Reason::Chatter),
    ]);
}

#[test]
fn a_thing_that_is_not_where_it_should_be_is_a_problem() {
    check(&[
        ("The card I have doesn't work.", true, Reason::ProblemReport),
        ("the transfer is yet to arrive", true, Reason::ProblemReport),
        ("I deposited it but it's not there", true, Reason::ProblemReport),
        ("my top up isn't in my balance", true, Reason::ProblemReport),
        ("There is an extra charge on the invoice", true, Reason::ProblemReport),
        ("there's a delay in the nightly build", true, Reason::ProblemReport),
        ("I can't find the verification code", true, Reason::ProblemReport),
        ("we couldn't make a release this week", true, Reason::ProblemReport),
        ("there is a party tonight", false, Reason::Chatter),
    ]);
}

#[test]
fn wanting_to_get_or_do_a_thing_is_a_request() {
    check(&[
        ("I want to get a disposable virtual card.", true, Reason::Request),
        ("I need to do a refund", true, Reason::Request),
        ("i want to get drunk", false, Reason::Chatter),
    ]);
}

#[test]
fn company_jokes_and_figures_of_speech_are_not_support() {
    check(&[
        ("any females want to chat? 25 m canada pm me", false, Reason::SmallTalk),
        ("I'd appreciate it if you'd stay out of my PM", false, Reason::SmallTalk),
        ("guess he crashed, lol", false, Reason::Chatter),
        ("my build crashed lol, any idea why?", true, Reason::QuestionMark),
        ("He broke my heart :/", false, Reason::Chatter),
        ("i had that song stuck in my head today", false, Reason::Chatter),
        ("she's the exception", false, Reason::Chatter),
        ("what can i say, I like pizza", false, Reason::SmallTalk),
        ("he came in and i was like wth. who are you", false, Reason::Chatter),
        ("the nightly build at 3 pm fails", true, Reason::ProblemReport),
        ("the build throws an exception on startup", true, Reason::ProblemReport),
    ]);
}

#[test]
fn an_auxiliary_before_a_noun_subject_asks_a_question() {
    check(&[
        ("does france use a different socket", true, Reason::Interrogative),
        ("are visas needed to travel to jamaica", true, Reason::Interrogative),
        ("would a socket converter be needed in france", true, Reason::Interrogative),
        ("does the arm image support alpine", true, Reason::Interrogative),
        // elided subjects in chat: statements about oneself
        ("is watching the screen", false, Reason::Chatter),
        ("would vote for him again", false, Reason::Chatter),
        ("can hear the waves from my window", false, Reason::Chatter),
        ("will send the info", false, Reason::Chatter),
    ]);
}

#[test]
fn asking_to_be_given_a_named_thing_is_a_request() {
    check(&[
        ("give me the routing number for my account", true, Reason::Request),
        ("please tell me the release date", true, Reason::Request),
        ("find me the docs for the slack adapter", true, Reason::Request),
        ("i need a routing number", true, Reason::Request),
        ("i need the w-2 form", true, Reason::Request),
        // chat: favours, company and jokes
        ("give me a chance", false, Reason::Chatter),
        ("show me that you love me", false, Reason::Chatter),
        ("i need a minute lol", false, Reason::Chatter),
        ("need some sweet loving", false, Reason::Chatter),
        ("i'll need the right drugs to clear up your infection", false, Reason::Chatter),
    ]);
}
