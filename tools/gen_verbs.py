"""Generate data/verbs.yaml: a rule-based Spanish conjugator plus explicit irregular tables.

Run `python tools/gen_verbs.py` to rewrite the table, `--check` to verify the file is what this
script produces (exit 1 if not). The spelling is current RAE (Ortografía 2010): forms that are
monosyllables by orthographic convention carry no written accent (rio, guio, hui, riais, fie).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.regular import CONDITIONAL, ENDINGS, FUTURE
from tutor.verify import TENSES

STRESSED = (0, 1, 2, 5)  # the persons whose stem carries the stress in the present

Slot = tuple[str, ...]  # preferred form first, then accepted alternates
Forms = dict[str, list[Slot]]

STRONG_PRETERITE = ("e", "iste", "o", "imos", "isteis", "ieron")
# After a vowel-final stem (le-er, ca-er, o-ír) the unstressed i of the ending becomes y.
VOWEL_STEM_PRETERITE = ("í", "íste", "yó", "ímos", "ísteis", "yeron")
UIR_PRETERITE = ("í", "iste", "yó", "imos", "isteis", "yeron")

STRIP_ACCENT = str.maketrans("áéíóú", "aeiou")
ADD_ACCENT = str.maketrans("aeiou", "áéíóú")
STRONG = set("aeoáéó")
WEAK = set("iuü")
ACCENTED_WEAK = set("íú")
# Monosyllables whose accent is diacritic (dé vs de, sé vs se) keep it.
DIACRITIC = {"dé", "sé"}


@dataclass(frozen=True)
class Verb:
    """How one verb departs from the regular pattern."""

    lemma: str
    english: str
    # Stem vowel change in stressed persons, e.g. ("e", "ie"), ("o", "ue"), ("e", "i").
    change: tuple[str, str] | None = None
    yo: str = ""  # irregular first person present; the subjunctive is built on it
    preterite_stem: str = ""  # strong preterite (tuv-, hic-, dij-)
    future_stem: str = ""  # irregular future/conditional stem (tendr-, har-)
    stress_accent: bool = False  # stressed stem i/u written with an accent (envío, continúo)
    zc: bool = False  # c -> zc before a/o (conozco, conduzca)
    explicit: Forms = field(default_factory=dict)  # whole tenses given literally
    alternate: Verb | None = None  # a second accepted conjugation (erro beside yerro)


def syllables(word: str) -> int:
    """Orthographic syllables: ui/iu and weak+strong pairs are diphthongs; í/ú mark a hiatus."""
    letters = list(word)
    # The u of gue/gui/que/qui is silent, not a vowel.
    for i in range(1, len(letters) - 1):
        if letters[i] == "u" and letters[i - 1] in "gq" and letters[i + 1] in "eéií":
            letters[i] = "-"
    count = 0
    run: list[str] = []
    for ch in [*letters, "-"]:
        if ch in STRONG or ch in WEAK or ch in ACCENTED_WEAK:
            run.append(ch)
            continue
        if run:
            count += max(1, sum(1 for v in run if v in STRONG or v in ACCENTED_WEAK))
            run = []
    return count


def spell(form: str) -> str:
    """Drop the written accent of a monosyllable (rió -> rio, guié -> guie, huís -> huis)."""
    if form in DIACRITIC or syllables(form) != 1:
        return form
    return form.translate(STRIP_ACCENT)


def split(lemma: str) -> tuple[str, str]:
    """(stem, class) for an infinitive: reír -> (re, ir)."""
    base = lemma.translate(STRIP_ACCENT)
    return base[:-2], base[-2:]


def last_replace(stem: str, old: str, new: str) -> str:
    at = stem.rfind(old)
    if at < 0:
        raise ValueError(f"no {old!r} in stem {stem!r}")
    return stem[:at] + new + stem[at + len(old) :]


def accent_stem(stem: str) -> str:
    """Write the accent on the stem's last i or u (envi -> enví, reun -> reún)."""
    at = max(stem.rfind("i"), stem.rfind("u"))
    return stem[:at] + stem[at].translate(ADD_ACCENT) + stem[at + 1 :]


def attach(stem: str, ending: str, klass: str, zc: bool) -> str:
    """Stem + ending, keeping the consonant sound (busqué, venzo, conozco, cojo, sigo, averigüe)."""
    first = ending[:1].translate(STRIP_ACCENT)
    if klass == "ar" and first == "e":
        for old, new in (("gu", "gü"), ("c", "qu"), ("g", "gu"), ("z", "c")):
            if stem.endswith(old):
                stem = stem[: -len(old)] + new
                break
    elif klass in ("er", "ir") and first in ("a", "o"):
        for old, new in (("gu", "g"), ("g", "j"), ("c", "zc" if zc else "z")):
            if stem.endswith(old):
                stem = stem[: -len(old)] + new
                break
    return stem + ending


def is_uir(lemma: str) -> bool:
    """construir, huir: a y appears before a, e, o (but seguir, distinguir keep gu)."""
    return lemma.endswith("uir") and not lemma.endswith(("guir", "quir"))


def raised(stem: str, change: tuple[str, str] | None) -> str:
    """The -ir stem raising of sintió, durmamos, pidió: e -> i, o -> u."""
    if change is None or change[0] not in ("e", "o"):
        return stem
    return last_replace(stem, change[0], "i" if change[0] == "e" else "u")


@dataclass(frozen=True)
class _Stems:
    """What every tense of one verb is built from."""

    verb: Verb
    stem: str
    klass: str
    stressed: str  # the stem where the stress falls on it (stem change, accent)
    uir: bool

    def make(self, stems: list[str], ends: tuple[str, ...]) -> list[str]:
        return [attach(s, e, self.klass, self.verb.zc) for s, e in zip(stems, ends, strict=True)]


def _stems(verb: Verb) -> _Stems:
    stem, klass = split(verb.lemma)
    stressed = stem
    if verb.change is not None:
        stressed = last_replace(stem, *verb.change)
    if verb.stress_accent:
        stressed = accent_stem(stressed)
    return _Stems(verb, stem, klass, stressed, is_uir(verb.lemma))


def _present(v: _Stems) -> list[str]:
    stems = [v.stressed if p in STRESSED else v.stem for p in range(6)]
    if v.uir:
        stems = [s + "y" if p in STRESSED else s for p, s in enumerate(stems)]
    present = v.make(stems, ENDINGS[v.klass]["present"])
    if v.verb.yo:
        present[0] = v.verb.yo
    return present


def _subjunctive(v: _Stems) -> list[str]:
    """On the yo stem when yo is irregular, else on the present stems."""
    ends = ENDINGS[v.klass]["present_subjunctive"]
    if v.verb.yo:
        return [v.verb.yo[:-1] + e for e in ends]
    unstressed = raised(v.stem, v.verb.change) if v.klass == "ir" else v.stem
    if v.verb.change is not None and v.verb.change[1] == "i":
        unstressed = v.stressed  # pedir: pidamos, pidáis
    stems = [v.stressed if p in STRESSED else unstressed for p in range(6)]
    if v.uir:
        stems = [s + "y" for s in stems]
    return v.make(stems, ends)


def _preterite(v: _Stems) -> list[str]:
    strong = v.verb.preterite_stem
    if strong:
        ends = list(STRONG_PRETERITE)
        if strong.endswith("j"):
            ends[5] = "eron"  # dijeron, trajeron, condujeron
        preterite = [strong + e for e in ends]
        if strong.endswith("c"):
            preterite[2] = strong[:-1] + "zo"  # hizo
        return preterite
    if v.klass != "ar" and v.stem[-1:] in ("a", "e", "o"):
        return [v.stem + e for e in VOWEL_STEM_PRETERITE]
    if v.uir:
        return [v.stem + e for e in UIR_PRETERITE]
    third = raised(v.stem, v.verb.change) if v.klass == "ir" else v.stem
    stems = [third if p in (2, 5) else v.stem for p in range(6)]
    return v.make(stems, ENDINGS[v.klass]["preterite"])


def conjugate(verb: Verb) -> Forms:
    """All six tenses of a verb, each a list of six slots."""
    v = _stems(verb)
    future_stem = verb.future_stem or v.stem + v.klass
    forms: Forms = {
        "present": [(spell(f),) for f in _present(v)],
        "preterite": [(spell(f),) for f in _preterite(v)],
        "imperfect": [(spell(v.stem + e),) for e in ENDINGS[v.klass]["imperfect"]],
        "future": [(spell(future_stem + e),) for e in FUTURE],
        "conditional": [(spell(future_stem + e),) for e in CONDITIONAL],
        "present_subjunctive": [(spell(f),) for f in _subjunctive(v)],
    }
    forms.update(verb.explicit)
    if verb.alternate is not None:
        other = conjugate(verb.alternate)
        forms = {t: [merge(a, b) for a, b in zip(forms[t], other[t], strict=True)] for t in TENSES}
    return forms


def merge(first: Slot, second: Slot) -> Slot:
    return tuple(dict.fromkeys((*first, *second)))


def slots(*forms: str | tuple[str, ...]) -> list[Slot]:
    """Six slots written literally; a tuple lists a preferred form and its alternates."""
    if len(forms) != 6:
        raise ValueError(f"expected six forms, got {forms}")
    return [f if isinstance(f, tuple) else (f,) for f in forms]


def eir(prefix: str) -> Forms:
    """reír and its family (sonreír, freír): the accent marks the hiatus í-o, í-e."""

    def six(*endings: str) -> list[Slot]:
        return [(spell(prefix + e),) for e in endings]

    return {
        "present": six("río", "ríes", "ríe", "reímos", "reís", "ríen"),
        "preterite": six("reí", "reíste", "rió", "reímos", "reísteis", "rieron"),
        "present_subjunctive": six("ría", "rías", "ría", "riamos", "riáis", "rían"),
    }


IE = ("e", "ie")
UE = ("o", "ue")
EI = ("e", "i")

# Verbs that need no parameters: the rules conjugate them from the infinitive alone (this includes
# the spelling changes of -car/-gar/-zar/-guar/-ger/-gir/-guir/-cer and the y of -uir/-eer/-aer).
REGULAR: dict[str, str] = {
    "abrazar": "to hug",
    "abrir": "to open",
    "aburrir": "to bore",
    "acabar": "to finish",
    "aceptar": "to accept",
    "admitir": "to admit",
    "alcanzar": "to reach",
    "alegrar": "to make glad",
    "alquilar": "to rent",
    "amar": "to love",
    "analizar": "to analyse",
    "añadir": "to add",
    "apagar": "to switch off",
    "aplicar": "to apply",
    "aprender": "to learn",
    "arreglar": "to fix",
    "asistir": "to attend",
    "averiguar": "to find out",
    "ayudar": "to help",
    "bailar": "to dance",
    "bajar": "to go down",
    "barrer": "to sweep",
    "beber": "to drink",
    "buscar": "to look for",
    "caminar": "to walk",
    "cambiar": "to change",
    "cantar": "to sing",
    "cargar": "to load",
    "celebrar": "to celebrate",
    "cenar": "to have dinner",
    "cocinar": "to cook",
    "coger": "to take",
    "comer": "to eat",
    "compartir": "to share",
    "comprar": "to buy",
    "comprender": "to understand",
    "comunicar": "to communicate",
    "concluir": "to conclude",
    "construir": "to build",
    "contestar": "to answer",
    "contribuir": "to contribute",
    "convencer": "to convince",
    "correr": "to run",
    "cortar": "to cut",
    "coser": "to sew",
    "creer": "to believe",
    "cruzar": "to cross",
    "cubrir": "to cover",
    "cuidar": "to look after",
    "cumplir": "to fulfil",
    "deber": "to have to, to owe",
    "decidir": "to decide",
    "dejar": "to leave, to let",
    "depender": "to depend",
    "desayunar": "to have breakfast",
    "descansar": "to rest",
    "describir": "to describe",
    "descubrir": "to discover",
    "desear": "to wish",
    "destruir": "to destroy",
    "dibujar": "to draw",
    "dirigir": "to direct",
    "discutir": "to argue",
    "disfrutar": "to enjoy",
    "distinguir": "to distinguish",
    "distribuir": "to distribute",
    "dividir": "to divide",
    "ejercer": "to practise",
    "encantar": "to delight",
    "enseñar": "to teach",
    "entrar": "to enter",
    "entregar": "to hand over",
    "escoger": "to choose",
    "esconder": "to hide",
    "escribir": "to write",
    "escuchar": "to listen",
    "esperar": "to wait",
    "estudiar": "to study",
    "exigir": "to demand",
    "existir": "to exist",
    "explicar": "to explain",
    "faltar": "to be missing",
    "fingir": "to pretend",
    "ganar": "to win",
    "gastar": "to spend",
    "gustar": "to please",
    "hablar": "to speak",
    "huir": "to flee",
    "importar": "to matter",
    "imprimir": "to print",
    "incluir": "to include",
    "influir": "to influence",
    "insistir": "to insist",
    "intentar": "to try",
    "interesar": "to interest",
    "invitar": "to invite",
    "juzgar": "to judge",
    "lanzar": "to throw",
    "lavar": "to wash",
    "leer": "to read",
    "levantar": "to lift",
    "limpiar": "to clean",
    "llamar": "to call",
    "llegar": "to arrive",
    "llevar": "to carry",
    "luchar": "to fight",
    "mandar": "to order",
    "marcar": "to mark",
    "meter": "to put in",
    "mirar": "to look at",
    "molestar": "to bother",
    "nadar": "to swim",
    "necesitar": "to need",
    "obligar": "to oblige",
    "ocurrir": "to happen",
    "odiar": "to hate",
    "olvidar": "to forget",
    "organizar": "to organise",
    "pagar": "to pay",
    "partir": "to depart, to split",
    "pasar": "to pass",
    "permitir": "to allow",
    "pescar": "to fish",
    "pintar": "to paint",
    "poseer": "to own",
    "practicar": "to practise",
    "preguntar": "to ask",
    "preocupar": "to worry",
    "preparar": "to prepare",
    "presentar": "to present",
    "prometer": "to promise",
    "proteger": "to protect",
    "quedar": "to stay",
    "realizar": "to carry out",
    "recibir": "to receive",
    "recoger": "to pick up",
    "regresar": "to return",
    "responder": "to answer",
    "romper": "to break",
    "sacar": "to take out",
    "saludar": "to greet",
    "secar": "to dry",
    "subir": "to go up",
    "suceder": "to happen",
    "sufrir": "to suffer",
    "sustituir": "to replace",
    "temer": "to fear",
    "terminar": "to finish",
    "tocar": "to touch",
    "tomar": "to take",
    "trabajar": "to work",
    "tratar": "to try, to treat",
    "usar": "to use",
    "utilizar": "to use",
    "vencer": "to defeat",
    "vender": "to sell",
    "viajar": "to travel",
    "visitar": "to visit",
    "vivir": "to live",
}

ZC: dict[str, str] = {
    "agradecer": "to thank",
    "aparecer": "to appear",
    "conocer": "to know (be acquainted with)",
    "crecer": "to grow",
    "desaparecer": "to disappear",
    "establecer": "to establish",
    "lucir": "to shine",
    "merecer": "to deserve",
    "nacer": "to be born",
    "obedecer": "to obey",
    "ofrecer": "to offer",
    "parecer": "to seem",
    "permanecer": "to remain",
    "pertenecer": "to belong",
    "reconocer": "to recognise",
}

DUCIR: dict[str, str] = {
    "conducir": "to drive",
    "introducir": "to introduce",
    "producir": "to produce",
    "reducir": "to reduce",
    "traducir": "to translate",
}

STEM_CHANGING: dict[str, tuple[tuple[str, str], str]] = {
    "acostar": (UE, "to put to bed"),
    "adquirir": (("i", "ie"), "to acquire"),
    "advertir": (IE, "to warn"),
    "almorzar": (UE, "to have lunch"),
    "apretar": (IE, "to squeeze"),
    "atravesar": (IE, "to cross"),
    "calentar": (IE, "to heat"),
    "cerrar": (IE, "to close"),
    "cocer": (UE, "to boil"),
    "colgar": (UE, "to hang"),
    "comenzar": (IE, "to begin"),
    "competir": (EI, "to compete"),
    "confesar": (IE, "to confess"),
    "conseguir": (EI, "to get"),
    "contar": (UE, "to count"),
    "convertir": (IE, "to convert"),
    "corregir": (EI, "to correct"),
    "costar": (UE, "to cost"),
    "defender": (IE, "to defend"),
    "despedir": (EI, "to dismiss"),
    "despertar": (IE, "to wake"),
    "devolver": (UE, "to give back"),
    "divertir": (IE, "to amuse"),
    "doler": (UE, "to hurt"),
    "dormir": (UE, "to sleep"),
    "elegir": (EI, "to choose"),
    "empezar": (IE, "to begin"),
    "encender": (IE, "to light"),
    "encontrar": (UE, "to find"),
    "entender": (IE, "to understand"),
    "gobernar": (IE, "to govern"),
    "herir": (IE, "to wound"),
    "hervir": (IE, "to boil"),
    "impedir": (EI, "to prevent"),
    "jugar": (("u", "ue"), "to play"),
    "medir": (EI, "to measure"),
    "mentir": (IE, "to lie"),
    "merendar": (IE, "to have an afternoon snack"),
    "morder": (UE, "to bite"),
    "morir": (UE, "to die"),
    "mostrar": (UE, "to show"),
    "mover": (UE, "to move"),
    "negar": (IE, "to deny"),
    "oler": (("o", "hue"), "to smell"),
    "pedir": (EI, "to ask for"),
    "pensar": (IE, "to think"),
    "perder": (IE, "to lose"),
    "perseguir": (EI, "to chase"),
    "preferir": (IE, "to prefer"),
    "probar": (UE, "to try"),
    "recomendar": (IE, "to recommend"),
    "recordar": (UE, "to remember"),
    "regar": (IE, "to water"),
    "repetir": (EI, "to repeat"),
    "requerir": (IE, "to require"),
    "resolver": (UE, "to solve"),
    "rogar": (UE, "to beg"),
    "sentar": (IE, "to seat"),
    "sentir": (IE, "to feel"),
    "seguir": (EI, "to follow"),
    "servir": (EI, "to serve"),
    "sonar": (UE, "to sound"),
    "soñar": (UE, "to dream"),
    "sugerir": (IE, "to suggest"),
    "temblar": (IE, "to tremble"),
    "torcer": (UE, "to twist"),
    "tropezar": (IE, "to trip"),
    "vestir": (EI, "to dress"),
    "volar": (UE, "to fly"),
    "volver": (UE, "to return"),
}

# Stressed stem i/u takes a written accent: envío, continúo, reúno, prohíbo.
STRESS_ACCENT: dict[str, str] = {
    "actuar": "to act",
    "ampliar": "to widen",
    "confiar": "to trust",
    "continuar": "to continue",
    "criar": "to raise",
    "enfriar": "to cool",
    "enviar": "to send",
    "esquiar": "to ski",
    "evaluar": "to evaluate",
    "graduar": "to graduate",
    "guiar": "to guide",
    "prohibir": "to forbid",
    "reunir": "to gather",
    "situar": "to place",
    "vaciar": "to empty",
    "variar": "to vary",
}

IRREGULAR: tuple[Verb, ...] = (
    Verb(
        "ser",
        "to be (identity, nature)",
        explicit={
            "present": slots("soy", "eres", "es", "somos", "sois", "son"),
            "preterite": slots("fui", "fuiste", "fue", "fuimos", "fuisteis", "fueron"),
            "imperfect": slots("era", "eras", "era", "éramos", "erais", "eran"),
            "present_subjunctive": slots("sea", "seas", "sea", "seamos", "seáis", "sean"),
        },
    ),
    Verb(
        "estar",
        "to be (state, location)",
        preterite_stem="estuv",
        explicit={
            "present": slots("estoy", "estás", "está", "estamos", "estáis", "están"),
            "present_subjunctive": slots("esté", "estés", "esté", "estemos", "estéis", "estén"),
        },
    ),
    Verb(
        "ir",
        "to go",
        explicit={
            "present": slots("voy", "vas", "va", "vamos", "vais", "van"),
            "preterite": slots("fui", "fuiste", "fue", "fuimos", "fuisteis", "fueron"),
            "imperfect": slots("iba", "ibas", "iba", "íbamos", "ibais", "iban"),
            "present_subjunctive": slots("vaya", "vayas", "vaya", "vayamos", "vayáis", "vayan"),
        },
    ),
    Verb(
        "haber",
        "to have (auxiliary)",
        preterite_stem="hub",
        future_stem="habr",
        explicit={
            # hay is the impersonal (existential) third person singular: "hay un libro".
            "present": slots("he", "has", ("ha", "hay"), "hemos", "habéis", "han"),
            "present_subjunctive": slots("haya", "hayas", "haya", "hayamos", "hayáis", "hayan"),
        },
    ),
    Verb(
        "dar",
        "to give",
        explicit={
            "present": slots("doy", "das", "da", "damos", "dais", "dan"),
            "preterite": slots("di", "diste", "dio", "dimos", "disteis", "dieron"),
            "present_subjunctive": slots("dé", "des", "dé", "demos", "deis", "den"),
        },
    ),
    Verb(
        "ver",
        "to see",
        explicit={
            "present": slots("veo", "ves", "ve", "vemos", "veis", "ven"),
            "preterite": slots("vi", "viste", "vio", "vimos", "visteis", "vieron"),
            "imperfect": slots("veía", "veías", "veía", "veíamos", "veíais", "veían"),
            "present_subjunctive": slots("vea", "veas", "vea", "veamos", "veáis", "vean"),
        },
    ),
    Verb(
        "saber",
        "to know (facts, how to)",
        yo="sé",
        preterite_stem="sup",
        future_stem="sabr",
        explicit={
            "present_subjunctive": slots("sepa", "sepas", "sepa", "sepamos", "sepáis", "sepan"),
        },
    ),
    Verb("caber", "to fit", yo="quepo", preterite_stem="cup", future_stem="cabr"),
    Verb("tener", "to have", change=IE, yo="tengo", preterite_stem="tuv", future_stem="tendr"),
    Verb(
        "obtener",
        "to obtain",
        change=IE,
        yo="obtengo",
        preterite_stem="obtuv",
        future_stem="obtendr",
    ),
    Verb(
        "mantener",
        "to maintain",
        change=IE,
        yo="mantengo",
        preterite_stem="mantuv",
        future_stem="mantendr",
    ),
    Verb(
        "contener",
        "to contain",
        change=IE,
        yo="contengo",
        preterite_stem="contuv",
        future_stem="contendr",
    ),
    Verb(
        "detener", "to stop", change=IE, yo="detengo", preterite_stem="detuv", future_stem="detendr"
    ),
    Verb(
        "sostener",
        "to hold up",
        change=IE,
        yo="sostengo",
        preterite_stem="sostuv",
        future_stem="sostendr",
    ),
    Verb("venir", "to come", change=IE, yo="vengo", preterite_stem="vin", future_stem="vendr"),
    Verb(
        "convenir",
        "to suit",
        change=IE,
        yo="convengo",
        preterite_stem="convin",
        future_stem="convendr",
    ),
    Verb(
        "prevenir",
        "to prevent",
        change=IE,
        yo="prevengo",
        preterite_stem="previn",
        future_stem="prevendr",
    ),
    Verb("hacer", "to do", yo="hago", preterite_stem="hic", future_stem="har"),
    Verb("deshacer", "to undo", yo="deshago", preterite_stem="deshic", future_stem="deshar"),
    Verb("decir", "to say", change=EI, yo="digo", preterite_stem="dij", future_stem="dir"),
    Verb("poder", "to be able to", change=UE, preterite_stem="pud", future_stem="podr"),
    Verb("querer", "to want", change=IE, preterite_stem="quis", future_stem="querr"),
    Verb("poner", "to put", yo="pongo", preterite_stem="pus", future_stem="pondr"),
    Verb("componer", "to compose", yo="compongo", preterite_stem="compus", future_stem="compondr"),
    Verb("proponer", "to propose", yo="propongo", preterite_stem="propus", future_stem="propondr"),
    Verb("suponer", "to suppose", yo="supongo", preterite_stem="supus", future_stem="supondr"),
    Verb("salir", "to go out", yo="salgo", future_stem="saldr"),
    Verb("valer", "to be worth", yo="valgo", future_stem="valdr"),
    Verb("traer", "to bring", yo="traigo", preterite_stem="traj"),
    Verb("atraer", "to attract", yo="atraigo", preterite_stem="atraj"),
    Verb("distraer", "to distract", yo="distraigo", preterite_stem="distraj"),
    Verb("caer", "to fall", yo="caigo"),
    Verb("andar", "to walk", preterite_stem="anduv"),
    Verb(
        "oír",
        "to hear",
        yo="oigo",
        explicit={"present": slots("oigo", "oyes", "oye", "oímos", "oís", "oyen")},
    ),
    Verb("reír", "to laugh", explicit=eir("")),
    Verb("sonreír", "to smile", explicit=eir("son")),
    Verb("freír", "to fry", explicit=eir("f")),
    # Spain prefers yerro; most of America says erro. Both are correct (RAE, DPD).
    Verb("errar", "to err", change=("e", "ye"), alternate=Verb("errar", "to err")),
)


def all_verbs() -> list[Verb]:
    verbs = [Verb(lemma, english) for lemma, english in REGULAR.items()]
    verbs += [Verb(lemma, english, zc=True) for lemma, english in ZC.items()]
    verbs += [
        Verb(lemma, english, zc=True, preterite_stem=lemma[:-3] + "j")
        for lemma, english in DUCIR.items()
    ]
    verbs += [Verb(lemma, english, change=c) for lemma, (c, english) in STEM_CHANGING.items()]
    verbs += [Verb(lemma, english, stress_accent=True) for lemma, english in STRESS_ACCENT.items()]
    verbs += IRREGULAR
    lemmas = [v.lemma for v in verbs]
    duplicates = {lemma for lemma in lemmas if lemmas.count(lemma) > 1}
    if duplicates:
        raise ValueError(f"verbs listed twice: {sorted(duplicates)}")
    return sorted(verbs, key=lambda v: v.lemma.translate(STRIP_ACCENT))


HEADER = """\
Ground truth for the grammar tutor: {verbs} Spanish verbs x 6 tenses x 6 persons = {slots} slots
({forms} forms counting accepted alternates). A slot is a form, or a list whose first item is the
preferred form and the rest accepted alternates. NFC Unicode, lowercase.

GENERATED by tools/gen_verbs.py, a rule-based conjugator: regular endings; stem changes e>ie,
o>ue, e>i, u>ue, i>ie; the spelling changes of -car/-gar/-zar/-guar/-ger/-gir/-guir/-cer/-cir;
y in -uir/-eer/-aer/oír; written accents on stressed i/u (envío, continúo, reúno, prohíbo);
strong preterite and future stems; explicit tables for ser, estar, ir, haber, dar, ver, saber,
oír and the reír family. Do not edit by hand: change the generator, run it, and update
PINNED_TABLE_SHA256 in tutor/verify.py. The tests check that this file is the generator's output.

Spelling is current RAE (Ortografía, 2010): forms that are monosyllables by orthographic
convention take no written accent: rio, frio, riais, friais, guie, guio, guiais, guieis, crie,
crio, criais, crieis, hui, huis. The diacritic accents of dé and sé stay. The pre-2010 spellings
(rió, guió, huí, riáis) are not accepted.

CROSS-CHECKED with tools/crosscheck_verbs.py against two independent conjugators, installed only
for the check (neither is a dependency of the project):
- verbecc 2.0.3, the reference: {compared} slots compared (every verb it knows), {agreed}
  identical, {disagreed} different. Each difference was resolved by RAE grammar:
  - 14 slots (criar, guiar, freír, reír, huir): verbecc keeps the pre-2010 accents (crié, guió,
    frió, riáis, huí); the table follows the 2010 rule above.
  - 8 slots of errar: verbecc lists only yerro, yerre...; the RAE also accepts erro, erre...
    (usual in most of America), so they are alternates after yerro.
  - haber present él: verbecc gives only the impersonal hay; the table prefers the auxiliary ha
    (ha comido) and accepts hay (hay un libro).
  verbecc raised an error on pasar and suceder, and only predicts enfriar and gobernar (its
  predictions match the table).
- spanishconjugator 2.3.9474, a second opinion: {second} slots agree. It regularises most
  irregular and spelling-changing verbs (caa for caiga, apage for apague), so its other
  differences are its errors wherever verbecc confirms the table.
Slots confirmed by neither: {unconfirmed}, namely the 14 RAE 2010 spellings above and the 16
stem-changed slots of enfriar (enfrío, like enviar) and gobernar (gobierno, like pensar), checked
by hand against the RAE's conjugation models.
"""


# Figures printed by tools/crosscheck_verbs.py for this verb list.
CROSS_CHECK = {
    "compared": 10512,
    "agreed": 10489,
    "disagreed": 23,
    "second": 8654,
    "unconfirmed": 30,
}


def render(verbs: list[Verb]) -> str:
    """The YAML text of the table, header comment first."""
    conjugated = [(verb, conjugate(verb)) for verb in verbs]
    header = HEADER.format(
        verbs=len(verbs),
        slots=len(verbs) * 36,
        forms=sum(len(s) for _, forms in conjugated for t in TENSES for s in forms[t]),
        **CROSS_CHECK,
    )
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append("verbs:")
    for verb, forms in conjugated:
        lines.append(f"  {verb.lemma}:")
        lines.append(f"    english: {json.dumps(verb.english, ensure_ascii=False)}")
        for tense in TENSES:
            cells = [s[0] if len(s) == 1 else f"[{', '.join(s)}]" for s in forms[tense]]
            lines.append(f"    {tense}: [{', '.join(cells)}]")
    text = "\n".join(lines) + "\n"
    return unicodedata.normalize("NFC", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parents[1] / "data/verbs.yaml"
    )
    parser.add_argument("--check", action="store_true", help="fail if the file differs")
    args = parser.parse_args(argv)
    text = render(all_verbs())
    if args.check:
        if args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} is not what {Path(__file__).name} generates", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {len(all_verbs())} verbs to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
