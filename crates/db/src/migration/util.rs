//! Helpers shared by the migrations. Changing one changes no landed migration's
//! effect: they only shorten how an index or key is declared.

use sea_orm_migration::prelude::*;

pub fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("idx_{table}_{}", cols.join("_"))).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

pub fn unique(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = index(table, cols);
    i.name(format!("uq_{table}_{}", cols.join("_"))).unique();
    i
}

pub fn fk(from_table: &'static str, from_col: &'static str, to_table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(format!("fk_{from_table}_{from_col}")).from(from_table, from_col).to(to_table, "id").to_owned()
}
