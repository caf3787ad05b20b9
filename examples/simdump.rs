// TEMPORARY analysis tool (not committed).
use storyline::story::cluster::{Clusterer, Idf, Terms};
#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).unwrap();
    let store = storyline::store::Store::open(std::path::Path::new(&path))
        .await
        .unwrap();
    let rows: Vec<(i64, String, String, i64, String, String)> = sqlx::query_as(
        "SELECT i.id, i.source_id, i.guid, si.at, si.terms, coalesce(i.title,'') FROM story_items si JOIN items i ON i.id=si.item_id WHERE si.relevant=1 ORDER BY si.at")
        .fetch_all(store.pool()).await.unwrap();
    let mut idf = Idf::default();
    for r in &rows {
        idf.add(&Terms::decode(&r.4));
    }
    let mut c = Clusterer::new(&idf);
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let dt = (b.3 - a.3) as f64 / 86400.0;
            if dt > 40.0 {
                continue;
            }
            let s = c.similarity(&Terms::decode(&a.4), &Terms::decode(&b.4));
            println!("{:.3}\t{:.1}\t{}::{}\t{}::{}\t{}\t{}", s, dt, a.1, a.2, b.1, b.2, a.3, b.3);
        }
    }
    for r in &rows {
        eprintln!("{}::{}\t{}\t{}", r.1, r.2, r.4, r.5);
    }
}
