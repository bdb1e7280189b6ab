// Deterministic, English-like journal text for the benchmarks.
//
// Words are drawn from a list ordered by rank in written English (function words first, then
// everyday journal vocabulary) with Zipf weights 1/(rank + 2.7), so the text compresses like
// real prose: a few very common words, a long tail. Sentences of 4-22 words (some with a
// comma), paragraphs of 2-6 sentences separated by a blank line.
// The generator is a self-contained splitmix64 so the same seed gives the same bytes with any
// standard library (std::*_distribution is implementation-defined).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace jsync::bench {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi], inclusive.
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

inline const std::vector<const char*>& Words() {
  static const std::vector<const char*> words = {
      // The most frequent words of written English, roughly in rank order.
      "the",       "and",          "to",        "of",        "a",         "I",         "in",
      "was",       "that",         "it",        "he",        "you",       "for",       "on",
      "with",      "my",           "is",        "as",        "had",       "at",        "be",
      "but",       "she",          "this",      "have",      "not",       "we",        "they",
      "by",        "from",         "her",       "his",       "all",       "so",        "were",
      "me",        "there",        "what",      "one",       "out",       "up",        "an",
      "about",     "would",        "when",      "if",        "been",      "or",        "no",
      "do",        "them",         "will",      "said",      "more",      "could",     "just",
      "like",      "time",         "some",      "into",      "then",      "can",       "our",
      "did",       "him",          "know",      "now",       "over",      "back",      "think",
      "day",       "only",         "little",    "how",       "even",      "still",     "after",
      "where",     "down",         "because",   "get",       "make",      "good",      "much",
      "again",     "really",       "first",     "thought",   "felt",      "long",      "way",
      "too",       "well",         "today",     "went",      "people",    "home",      "work",
      "morning",   "night",        "something", "before",    "around",    "through",   "never",
      "always",    "new",          "last",      "while",     "other",     "things",    "feel",
      "got",       "want",         "very",      "year",      "going",     "need",      "better",
      "right",     "old",          "every",     "came",      "saw",       "made",      "told",
      "asked",     "left",         "took",      "found",     "another",   "tomorrow",  "yesterday",
      "week",      "weekend",      "friend",    "friends",   "family",    "mother",    "father",
      "sister",    "brother",      "house",     "room",      "kitchen",   "garden",    "street",
      "city",      "town",         "office",    "meeting",   "project",   "email",     "phone",
      "call",      "dinner",       "lunch",     "breakfast", "coffee",    "tea",       "walk",
      "run",       "rain",         "sun",       "weather",   "cold",      "warm",      "tired",
      "happy",     "quiet",        "busy",      "late",      "early",     "slowly",    "finally",
      "almost",    "enough",       "book",      "reading",   "writing",   "music",     "train",
      "car",       "park",         "river",     "window",    "evening",   "afternoon", "hours",
      "minutes",   "moment",       "idea",      "plan",      "problem",   "question",  "answer",
      "remember",  "forget",       "hope",      "wish",      "worry",     "sleep",     "woke",
      "listened",  "watched",      "talked",    "laughed",   "walked",    "cooked",    "cleaned",
      "started",   "finished",     "tried",     "wanted",    "seemed",    "looked",    "kept",
      "brought",   "bought",       "paid",      "small",     "big",       "short",     "strange",
      "beautiful", "difficult",    "easy",      "important", "different", "same",      "whole",
      "half",      "together",     "alone",     "outside",   "inside",    "nothing",   "everything",
      "anyone",    "someone",      "sometimes", "perhaps",   "probably",  "maybe",     "though",
      "although",  "since",        "until",     "during",    "between",   "without",   "against",
      "under",     "across",       "toward",    "behind",    "beside",    "light",     "dark",
      "green",     "blue",         "grey",      "bread",     "apples",    "letter",    "photo",
      "picture",   "birthday",     "holiday",   "doctor",    "school",    "children",  "dog",
      "cat",       "bird",         "trees",     "flowers",   "snow",      "wind",      "sea",
      "beach",     "mountain",     "road",      "bridge",    "station",   "airport",   "ticket",
      "money",     "rent",         "job",       "boss",      "colleague", "team",      "deadline",
      "report",    "notes",        "list",      "market",    "neighbour", "concert",   "film",
      "story",     "conversation", "silence",   "patience",  "energy",    "health",    "habit",
      "routine",   "change",       "future",    "past",
  };
  return words;
}

inline const std::vector<const char*>& TagPool() {
  static const std::vector<const char*> tags = {
      "work",  "family", "travel",  "health",  "ideas",   "reading", "gratitude", "dreams",
      "food",  "music",  "running", "weekend", "friends", "goals",   "money",     "garden",
      "kids",  "films",  "writing", "sleep",   "weather", "project", "learning",  "home",
      "walks", "coffee", "mood",    "notes",   "plans",   "memory",  "holiday",   "books",
  };
  return tags;
}

class ProseGenerator {
 public:
  explicit ProseGenerator(uint64_t seed) : rng_(seed) {
    const auto& words = Words();
    double total = 0;
    cumulative_.reserve(words.size());
    for (size_t rank = 0; rank < words.size(); ++rank) {
      total += 1.0 / (static_cast<double>(rank) + 2.7);
      cumulative_.push_back(total);
    }
    for (double& c : cumulative_) c /= total;
  }

  Rng& rng() { return rng_; }

  std::string Word() {
    double u = rng_.Unit();
    size_t i = std::lower_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin();
    return Words()[std::min(i, cumulative_.size() - 1)];
  }

  std::string Sentence() {
    const uint64_t n = rng_.Range(4, 22);
    const uint64_t comma_at = rng_.Range(0, 2) == 0 ? rng_.Range(2, n) : 0;
    std::string s;
    for (uint64_t i = 0; i < n; ++i) {
      std::string w = Word();
      if (i == 0 && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
      if (i > 0) s += ' ';
      s += w;
      if (i + 1 == comma_at && i + 1 < n) s += ',';
    }
    const uint64_t end = rng_.Range(0, 19);
    s += end == 0 ? '?' : end == 1 ? '!' : '.';
    return s;
  }

  // Paragraphs of whole sentences until at least `min_bytes` (the last sentence may overshoot).
  std::string Body(size_t min_bytes) {
    std::string body;
    uint64_t left_in_paragraph = rng_.Range(2, 6);
    while (body.size() < min_bytes) {
      if (!body.empty()) {
        if (left_in_paragraph == 0) {
          body += "\n\n";
          left_in_paragraph = rng_.Range(2, 6);
        } else {
          body += ' ';
        }
      }
      body += Sentence();
      --left_in_paragraph;
    }
    return body;
  }

  std::string Title() {
    const uint64_t n = rng_.Range(2, 6);
    std::string t;
    for (uint64_t i = 0; i < n; ++i) {
      std::string w = Word();
      if (i == 0 && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 'a' + 'A');
      if (i > 0) t += ' ';
      t += w;
    }
    return t;
  }

  // 0-4 distinct tags from the pool.
  std::vector<std::string> Tags() {
    const auto& pool = TagPool();
    const uint64_t n = rng_.Range(0, 4);
    std::vector<std::string> tags;
    while (tags.size() < n) {
      std::string t = pool[rng_.Range(0, pool.size() - 1)];
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
    }
    return tags;
  }

 private:
  Rng rng_;
  std::vector<double> cumulative_;
};

}  // namespace jsync::bench
