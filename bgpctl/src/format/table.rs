//! Aligned text columns, as `gobgp neighbor` and `birdc show route` print them.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table: a header row, then rows of cells; columns are separated by two spaces and
/// lines carry no trailing spaces.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub(crate) fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// Adds a column at the right (before any row is added).
    pub(crate) fn push_column(&mut self, column: (&'static str, Align)) {
        self.columns.push(column);
    }

    /// Sets the last cell of the last row.
    pub(crate) fn set_last_cell(&mut self, cell: String) {
        if let Some(last) = self.rows.last_mut().and_then(|r| r.last_mut()) {
            *last = cell;
        }
    }

    /// The table as text, one line per row after the header, each ending in `\n`.
    pub(crate) fn render(&self) -> String {
        let width = |s: &str| s.chars().count();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (title, _))| {
                self.rows
                    .iter()
                    .map(|r| width(&r[i]))
                    .chain([width(title)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let header = self
            .columns
            .iter()
            .map(|(t, _)| (*t).to_owned())
            .collect::<Vec<_>>();
        for cells in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i] - width(cell));
                match self.columns[i].1 {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `key: value` lines with the values lined up, for one object (`global`, `neighbor show`).
pub(crate) fn key_values(indent: &str, pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let pad = " ".repeat(width - key.chars().count());
        let line = format!("{indent}{key}:{pad}  {value}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&[
            ("Name", Align::Left),
            ("Count", Align::Right),
            ("Note", Align::Left),
        ]);
        t.row(vec!["a".into(), "1".into(), "".into()]);
        t.row(vec!["longer-name".into(), "12345".into(), "ünïcode".into()]);
        t.row(vec!["b".into()]);
        assert_eq!(
            t.render(),
            "Name         Count  Note\n\
             a                1\n\
             longer-name  12345  ünïcode\n\
             b\n"
        );
    }

    #[test]
    fn key_values_line_up() {
        assert_eq!(
            key_values(
                "  ",
                &[
                    ("AS", "65000".into()),
                    ("Router ID", "10.0.0.1".into()),
                    ("Empty", String::new())
                ]
            ),
            "  AS:         65000\n  Router ID:  10.0.0.1\n  Empty:\n"
        );
    }
}
