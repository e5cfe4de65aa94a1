#!/usr/bin/env python3
"""Baselines for nunchi's sentiment models, on the same split `nunchi text eval` writes:
TF-IDF + logistic regression (scikit-learn) for both languages, VADER for English and the
KOSAC polarity lexicon (morphemes from kiwipiepy) for Korean. Prints one JSON line per
result. Usage: text_baselines.py LANG TRAIN.tsv TEST.tsv [KOSAC_polarity.csv]"""
import json
import sys
import time


def read(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("positive", "negative"):
                labels.append(1 if label == "positive" else 0)
                texts.append(text)
    return labels, texts


def report(name, lang, labels, predictions, seconds):
    right = sum(1 for y, p in zip(labels, predictions) if y == p)
    print(json.dumps({"baseline": name, "lang": lang, "accuracy": round(right / len(labels), 4),
                      "test_size": len(labels), "seconds": round(seconds, 2)}), flush=True)


def tfidf_lr(lang, train, test):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    started = time.time()
    y_train, x_train = train
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2, sublinear_tf=True, max_features=2_000_000)
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    x = hstack([char.fit_transform(x_train), word.fit_transform(x_train)]).tocsr()
    model = LogisticRegression(C=4.0, max_iter=300, class_weight="balanced", solver="liblinear")
    model.fit(x, y_train)
    y_test, x_test = test
    xt = hstack([char.transform(x_test), word.transform(x_test)]).tocsr()
    report("tfidf+logreg (scikit-learn)", lang, y_test, model.predict(xt), time.time() - started)


def vader(test):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    started = time.time()
    analyzer = SentimentIntensityAnalyzer()
    y_test, x_test = test
    predictions = [1 if analyzer.polarity_scores(t)["compound"] >= 0 else 0 for t in x_test]
    report("VADER 3.3.2", "en", y_test, predictions, time.time() - started)


def kosac(test, lexicon_path):
    import csv
    from kiwipiepy import Kiwi
    started = time.time()
    polarity = {}
    with open(lexicon_path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            # KOSAC n-grams are morpheme/TAG sequences joined by ';'.
            key = tuple(row["ngram"].split(";"))
            polarity[key] = float(row["POS"]) - float(row["NEG"])
    longest = max(len(k) for k in polarity)
    kiwi = Kiwi()
    y_test, x_test = test
    predictions = []
    for text in x_test:
        tokens = [f"{t.form}/{t.tag}" for t in kiwi.tokenize(text)]
        score, i = 0.0, 0
        while i < len(tokens):
            for n in range(min(longest, len(tokens) - i), 0, -1):
                key = tuple(tokens[i:i + n])
                if key in polarity:
                    score += polarity[key]
                    i += n
                    break
            else:
                i += 1
        predictions.append(1 if score >= 0 else 0)
    report("KOSAC lexicon (kiwipiepy morphemes)", "ko", y_test, predictions, time.time() - started)


def main():
    lang, train_path, test_path = sys.argv[1:4]
    train, test = read(train_path), read(test_path)
    if lang == "en":
        vader(test)
    elif len(sys.argv) > 4:
        kosac(test, sys.argv[4])
    tfidf_lr(lang, train, test)


if __name__ == "__main__":
    main()
