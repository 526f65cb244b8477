# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECS cluster query language, as ListContainerInstances' ``filter`` uses it.

Grammar (AWS "Create expressions to define container instances for Amazon ECS tasks")::

    expression := term (("or" | "||") term)*
    term       := factor (("and" | "&&") factor)*
    factor     := ("not" | "!") factor | "(" expression ")" | subject operator [argument]
    argument   := value | "[" value ("," value)* "]"

A word may contain a bracket group when the ``[`` follows it directly (``dc[0-9]``, a pattern);
after whitespace ``[`` opens an argument list.

Subjects: ``agentConnected``, ``agentVersion``, ``attribute:<name>``, ``ec2InstanceId``,
``registeredAt``, ``runningTasksCount``; each accepts the operators AWS lists for it.  Anything
else is rejected with :class:`QueryError`, which callers turn into InvalidParameterException.
"""

import datetime
import re

COMPARE = {
    "==": "==",
    "equals": "==",
    "!=": "!=",
    "not_equals": "!=",
    ">": ">",
    "greater_than": ">",
    ">=": ">=",
    "greater_than_equal": ">=",
    "<": "<",
    "less_than": "<",
    "<=": "<=",
    "less_than_equal": "<=",
    "in": "in",
    "not_in": "!in",
    "=~": "=~",
    "matches": "=~",
    "!~": "!~",
    "not_matches": "!~",
    "exists": "exists",
    "not_exists": "!exists",
}
EQUALITY = ("==", "!=", "in", "!in", "=~", "!~")
ORDERING = ("==", "!=", ">", ">=", "<", "<=")
SUBJECT_OPERATORS = {
    "agentConnected": EQUALITY,
    "agentVersion": ORDERING,
    "ec2InstanceId": EQUALITY,
    "registeredAt": ORDERING,
    "runningTasksCount": ORDERING,
}
ATTRIBUTE_OPERATORS = EQUALITY + ORDERING[2:] + ("exists", "!exists")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<symbol>==|!=|>=|<=|=~|!~|&&|\|\||[<>!()\[\],])
      | (?P<word>[^\s'"<>=!~&|()\[\],]+(?:\[[^\]\s]*\][^\s'"<>=!~&|()\[\],]*)*)
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """A filter expression that is not valid cluster query language."""


def tokenize(text):
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError("Unexpected character at position %d in filter: %s" % (position, text))
        position = match.end()
        if match.group("quoted"):
            tokens.append(("value", match.group("quoted")[1:-1]))
        elif match.group("symbol"):
            tokens.append(("symbol", match.group("symbol")))
        else:
            tokens.append(("word", match.group("word")))
    return tokens


def _version(value):
    return tuple(int(part) if part.isdigit() else 0 for part in str(value).lstrip("v").split("."))


def _date(value):
    """A naive UTC datetime from a model timestamp or a filter literal (``2016-06-06``, ISO 8601)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        try:
            parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as error:
            raise QueryError("Invalid date in filter: %s" % value) from error
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _integer(value):
    try:
        return int(value)
    except ValueError as error:
        raise QueryError("Invalid number in filter: %s" % value) from error


class Condition:
    """``subject operator [argument]`` evaluated against one container instance."""

    def __init__(self, subject, operator, argument):
        if subject.startswith("attribute:") and len(subject) > len("attribute:"):
            allowed = ATTRIBUTE_OPERATORS
        elif subject in SUBJECT_OPERATORS:
            allowed = SUBJECT_OPERATORS[subject]
        else:
            raise QueryError("Unsupported filter subject: %s" % subject)
        if operator not in allowed:
            raise QueryError("Operator %s is not valid for %s" % (operator, subject))
        if operator in ("exists", "!exists"):
            if argument is not None:
                raise QueryError("Operator %s takes no argument" % operator)
        elif argument is None:
            raise QueryError("Operator %s needs an argument" % operator)
        elif operator in ("in", "!in") and not isinstance(argument, list):
            argument = [argument]
        elif operator not in ("in", "!in") and isinstance(argument, list):
            raise QueryError("Operator %s takes a single value, not a list" % operator)
        self.subject, self.operator, self.argument = subject, operator, argument
        if operator in ("=~", "!~"):
            try:
                self.pattern = re.compile(argument)
            except re.error as error:
                raise QueryError("Invalid pattern in filter: %s" % argument) from error
        self._convert = {"agentVersion": _version, "registeredAt": _date, "runningTasksCount": _integer}.get(
            subject, str
        )
        if operator in ORDERING[2:] or subject in ("agentVersion", "registeredAt", "runningTasksCount"):
            self._convert(argument)  # reject malformed literals up front, like AWS does

    def value(self, instance):
        """The subject's value on *instance*, or None when it has none."""
        if self.subject.startswith("attribute:"):
            return instance.attributes.get(self.subject[len("attribute:") :])
        if self.subject == "agentConnected":
            return "true" if instance.agent_connected else "false"
        if self.subject == "agentVersion":
            return (instance.version_info or {}).get("agentVersion")
        if self.subject == "ec2InstanceId":
            return instance.ec2_instance_id
        if self.subject == "registeredAt":
            return instance.registered_at
        return instance.running_tasks_count

    def __call__(self, instance):
        if self.operator in ("exists", "!exists"):
            present = self.subject[len("attribute:") :] in instance.attributes
            return present if self.operator == "exists" else not present
        value = self.value(instance)
        if self.operator in ("in", "!in"):
            found = value is not None and str(value) in self.argument
            return found if self.operator == "in" else not found
        if self.operator in ("=~", "!~"):
            found = value is not None and self.pattern.fullmatch(str(value)) is not None
            return found if self.operator == "=~" else not found
        if value is None:
            return self.operator == "!="
        left, right = self._convert(value), self._convert(self.argument)
        return {
            "==": left == right,
            "!=": left != right,
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
        }[self.operator]


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        if token[0] is None:
            raise QueryError("Unexpected end of filter: %s" % self.text)
        self.position += 1
        return token

    def accept(self, *texts):
        kind, text = self.peek()
        if kind in ("symbol", "word") and text in texts:
            self.position += 1
            return True
        return False

    def parse(self):
        if not self.tokens:
            raise QueryError("Empty filter")
        predicate = self.expression()
        if self.position != len(self.tokens):
            raise QueryError("Unexpected %r in filter: %s" % (self.peek()[1], self.text))
        return predicate

    def expression(self):
        parts = [self.term()]
        while self.accept("or", "||"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else lambda instance: any(part(instance) for part in parts)

    def term(self):
        parts = [self.factor()]
        while self.accept("and", "&&"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else lambda instance: all(part(instance) for part in parts)

    def factor(self):
        if self.accept("not", "!"):
            inner = self.factor()
            return lambda instance: not inner(instance)
        if self.accept("("):
            inner = self.expression()
            if not self.accept(")"):
                raise QueryError("Missing ')' in filter: %s" % self.text)
            return inner
        kind, subject = self.take()
        if kind != "word":
            raise QueryError("Expected a subject, got %r in filter: %s" % (subject, self.text))
        return Condition(subject, self.operator(), self.argument())

    def operator(self):
        kind, text = self.take()
        if kind == "symbol" and text == "!":
            kind, text = self.take()
            text = "not_" + text if kind == "word" and text in ("exists", "in") else None
        if text not in COMPARE:
            raise QueryError("Unknown operator %r in filter: %s" % (text, self.text))
        return COMPARE[text]

    def argument(self):
        if self.accept("["):
            values = [self.value()]
            while self.accept(","):
                values.append(self.value())
            if not self.accept("]"):
                raise QueryError("Missing ']' in filter: %s" % self.text)
            return values
        kind, text = self.peek()
        if kind == "value" or (kind == "word" and text not in ("and", "or")):
            return self.value()
        return None

    def value(self):
        kind, text = self.take()
        if kind not in ("word", "value"):
            raise QueryError("Expected a value, got %r in filter: %s" % (text, self.text))
        return text


def compile_filter(text):
    """A predicate over container instances for the cluster query language expression *text*."""
    return _Parser(text).parse()
