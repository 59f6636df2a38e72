"""The PostgreSQL engine's gram codes: a section holds the codes of every substring of its
text (so containment never loses a hit), and different grams never share a code (so the
terms the codes prove are exact)."""

import random

from search.pg_engine import _exact_by_grams, gram_codes, query_codes, word_code

ALPHABET = "ab1z9 客户退款退貨😀\U0010ffff-_.xy"


def test_every_substring_s_codes_are_held_by_the_text():
    rng = random.Random(5)
    for _ in range(400):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 30)))
        held = set(gram_codes(text))
        for start in range(len(text)):
            for end in range(start + 1, min(len(text), start + 9) + 1):
                assert query_codes(text[start:end]) <= held, (text, text[start:end])


def test_a_whole_word_is_held_as_a_word_and_a_part_of_one_is_not():
    held = set(gram_codes("订单 checkout 失败, follow-up 已提交, internationalization"))
    assert word_code("checkout") in held and word_code("follow-up") in held
    assert word_code("check") not in held  # inside a longer word: verified by its text
    assert word_code("internationalization"[:12]) not in held


def test_codes_of_different_grams_differ():
    grams = {"a", "ab", "ba", "客", "客户", "户客", "abc", "abcd", "abcde", "bcde", "9z1", "zz9z"}
    grams |= {"\U0010ffff", "\U0010ffff\U0010ffff", "zzzzz", "99999", "00000", "zzzz"}
    codes = {}
    for gram in grams:
        (code,) = query_codes(gram) if len(gram) <= 2 or gram.isascii() else (None,)
        assert code not in codes, (gram, codes.get(code))
        codes[code] = gram
    words = {"abcde", "abcdf", "zzzzzzzzzzzz", "aaaaa", "checkout", "a-b-c", "ab-cd", "follow-up"}
    word_codes = {word_code(w) for w in words}
    assert len(word_codes) == len(words) and not word_codes & set(codes)
    assert all(code < 2**63 for code in word_codes)


def test_which_terms_their_codes_prove():
    assert _exact_by_grams("客") and _exact_by_grams("客户") and _exact_by_grams("dd202")
    assert not _exact_by_grams("客户退") and not _exact_by_grams("dd2022")
