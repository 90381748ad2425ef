//! [`CheckContext`]: what a checker is given — the card, the mode, the mode's parameters
//! (`[quick]` or `[full]`) and the statement's parameters (`[statement]`, with a mutant's
//! overrides applied when the engine runs a mutant). Typed accessors turn a missing or
//! mistyped value into a [`CardError`] naming the card, the table and the key: bad input
//! (exit status 2), never a checker error or a verdict.
//!
//! A checker cannot tell whether it runs the card's statement or a mutant: it only sees the
//! statement's parameters, so it cannot treat mutants specially.

use super::card::{Card, CardError};
use super::Mode;

/// What a checker is given.
pub struct CheckContext<'a> {
    pub card: &'a Card,
    pub mode: Mode,
    params: &'a toml::Table,
    statement: toml::Table,
}

/// One of the two tables a checker reads.
#[derive(Clone, Copy)]
enum Section {
    Mode(Mode),
    Statement,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Mode(Mode::Quick) => "quick",
            Section::Mode(Mode::Full) => "full",
            Section::Statement => "statement",
        }
    }
}

/// Typed reads of one table, shared by the mode's parameters and the statement's.
struct Table<'t> {
    card: &'t str,
    section: Section,
    table: &'t toml::Table,
}

impl<'t> Table<'t> {
    fn get(&self, key: &str) -> Result<&'t toml::Value, CardError> {
        self.table.get(key).ok_or_else(|| CardError::MissingParam {
            card: self.card.to_string(),
            section: self.section.name().to_string(),
            key: key.to_string(),
        })
    }

    fn wrong(&self, key: &str, expected: &'static str) -> CardError {
        CardError::WrongType {
            card: self.card.to_string(),
            section: self.section.name().to_string(),
            key: key.to_string(),
            expected,
        }
    }

    fn number(v: &toml::Value) -> Option<f64> {
        match v {
            toml::Value::Float(x) => Some(*x),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    fn count(v: &toml::Value) -> Option<usize> {
        match v {
            toml::Value::Integer(i) => usize::try_from(*i).ok(),
            _ => None,
        }
    }

    fn f64(&self, key: &str) -> Result<f64, CardError> {
        Self::number(self.get(key)?).ok_or_else(|| self.wrong(key, "a number"))
    }

    fn usize(&self, key: &str) -> Result<usize, CardError> {
        Self::count(self.get(key)?).ok_or_else(|| self.wrong(key, "a non-negative integer"))
    }

    fn bool(&self, key: &str) -> Result<bool, CardError> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| self.wrong(key, "true or false"))
    }

    fn str(&self, key: &str) -> Result<&'t str, CardError> {
        self.get(key)?.as_str().ok_or_else(|| self.wrong(key, "a string"))
    }

    fn array<T>(
        &self,
        key: &str,
        expected: &'static str,
        item: impl Fn(&toml::Value) -> Option<T>,
    ) -> Result<Vec<T>, CardError> {
        let arr = self
            .get(key)?
            .as_array()
            .ok_or_else(|| self.wrong(key, expected))?;
        arr.iter()
            .map(|v| item(v).ok_or_else(|| self.wrong(key, expected)))
            .collect()
    }
}

impl<'a> CheckContext<'a> {
    /// Context for `card` in `mode`, with the card's own statement.
    pub fn new(card: &'a Card, mode: Mode) -> Self {
        Self::with_statement(card, mode, card.statement_for(None))
    }

    /// Context for `card` in `mode` with the given statement parameters (the engine passes a
    /// mutant's here).
    pub fn with_statement(card: &'a Card, mode: Mode, statement: toml::Table) -> Self {
        let params = match mode {
            Mode::Quick => &card.quick,
            Mode::Full => &card.full,
        };
        CheckContext {
            card,
            mode,
            params,
            statement,
        }
    }

    fn mode_table(&self) -> Table<'_> {
        Table {
            card: &self.card.id,
            section: Section::Mode(self.mode),
            table: self.params,
        }
    }

    fn statement_table(&self) -> Table<'_> {
        Table {
            card: &self.card.id,
            section: Section::Statement,
            table: &self.statement,
        }
    }

    /// A float parameter of the mode (integers are accepted and converted).
    pub fn f64(&self, key: &str) -> Result<f64, CardError> {
        self.mode_table().f64(key)
    }

    /// A non-negative integer parameter of the mode.
    pub fn usize(&self, key: &str) -> Result<usize, CardError> {
        self.mode_table().usize(key)
    }

    /// A u64 parameter of the mode (seeds).
    pub fn u64(&self, key: &str) -> Result<u64, CardError> {
        self.usize(key).map(|v| v as u64)
    }

    /// A boolean parameter of the mode.
    pub fn bool(&self, key: &str) -> Result<bool, CardError> {
        self.mode_table().bool(key)
    }

    /// A string parameter of the mode.
    pub fn str(&self, key: &str) -> Result<&str, CardError> {
        self.mode_table().str(key)
    }

    /// An array of numbers of the mode.
    pub fn f64s(&self, key: &str) -> Result<Vec<f64>, CardError> {
        self.mode_table().array(key, "an array of numbers", Table::number)
    }

    /// An array of non-negative integers of the mode.
    pub fn usizes(&self, key: &str) -> Result<Vec<usize>, CardError> {
        self.mode_table()
            .array(key, "an array of non-negative integers", Table::count)
    }

    /// An array of strings of the mode.
    pub fn strs(&self, key: &str) -> Result<Vec<String>, CardError> {
        self.mode_table()
            .array(key, "an array of strings", |v| v.as_str().map(str::to_string))
    }

    /// A float parameter of the statement (integers are accepted and converted).
    pub fn stmt_f64(&self, key: &str) -> Result<f64, CardError> {
        self.statement_table().f64(key)
    }

    /// A non-negative integer parameter of the statement.
    pub fn stmt_usize(&self, key: &str) -> Result<usize, CardError> {
        self.statement_table().usize(key)
    }

    /// A boolean parameter of the statement.
    pub fn stmt_bool(&self, key: &str) -> Result<bool, CardError> {
        self.statement_table().bool(key)
    }

    /// A string parameter of the statement.
    pub fn stmt_str(&self, key: &str) -> Result<&str, CardError> {
        self.statement_table().str(key)
    }

    /// An array of numbers of the statement.
    pub fn stmt_f64s(&self, key: &str) -> Result<Vec<f64>, CardError> {
        self.statement_table()
            .array(key, "an array of numbers", Table::number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        Card::parse(
            "x.md",
            "+++\nid = \"x\"\ntitle = \"t\"\nkind = \"bound\"\nexpected = \"holds\"\nas_printed = \"a\"\nprecise = \"p\"\nsource = \"s\"\n[statement]\nq = 1.0\nname = \"n\"\n[[mutants]]\nid = \"m\"\nstatement = \"s\"\nset = { q = 0.5 }\n[quick]\nn = 3\nxs = [1, 2.5]\nwords = [\"a\", \"b\"]\nneg = -1\n+++\n",
        )
        .unwrap()
    }

    #[test]
    fn reads_typed_values_of_both_tables() {
        let c = card();
        let ctx = CheckContext::new(&c, Mode::Quick);
        assert_eq!(ctx.usize("n").unwrap(), 3);
        assert_eq!(ctx.f64("n").unwrap(), 3.0);
        assert_eq!(ctx.f64s("xs").unwrap(), vec![1.0, 2.5]);
        assert_eq!(ctx.strs("words").unwrap(), vec!["a", "b"]);
        assert_eq!(ctx.stmt_f64("q").unwrap(), 1.0);
        assert_eq!(ctx.stmt_str("name").unwrap(), "n");
        let mutated = CheckContext::with_statement(&c, Mode::Quick, c.statement_for(Some(&c.mutants[0])));
        assert_eq!(mutated.stmt_f64("q").unwrap(), 0.5);
    }

    #[test]
    fn missing_and_mistyped_values_name_card_table_and_key() {
        let c = card();
        let ctx = CheckContext::new(&c, Mode::Quick);
        let e = ctx.usize("neg").unwrap_err().to_string();
        assert!(
            e.contains("[quick]") && e.contains("`neg`") && e.contains("non-negative"),
            "{e}"
        );
        let e = ctx.stmt_f64("missing").unwrap_err().to_string();
        assert!(e.contains("[statement]") && e.contains("`missing`"), "{e}");
        let e = ctx.strs("xs").unwrap_err().to_string();
        assert!(e.contains("array of strings"), "{e}");
        let full = CheckContext::new(&c, Mode::Full);
        let e = full.usize("n").unwrap_err().to_string();
        assert!(e.contains("[full]"), "{e}");
    }
}
