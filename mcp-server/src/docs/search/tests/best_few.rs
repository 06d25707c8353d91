//! The score tables' best few against their whole ranking, on a corpus of many units.

use super::super::*;
use proptest::prelude::*;

/// Many units of a few words each (a word more often the earlier it is in the list), seeded:
/// more than a score table's chunk of sixteen slots, most holding the common words.
fn many_units(seed: u64) -> Corpus {
    const WORDS: [&str; 8] = [
        "idle", "timeout", "drain", "stream", "sticky", "balancer", "deploys", "zebra",
    ];
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pages: Vec<(String, String)> = (0..12)
        .map(|p| {
            let mut text = format!("# Page {p}\n");
            for s in 0..4 {
                text.push_str(&format!("\n## Part {s}\n\n"));
                for _ in 0..(2 + next() % 8) {
                    // The first words are the commonest: ties and long lists both happen.
                    let word = WORDS[(next() % 8).min(next() % 8) as usize];
                    text.push_str(word);
                    text.push(' ');
                }
                text.push('\n');
            }
            (format!("p{p}.md"), text)
        })
        .collect();
    Corpus::from_texts(pages.iter().map(|(p, t)| (p.as_str(), t.as_str())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// With fewer wanted than units hold the query's words, the heap fills, the floor rises and
    /// chunks of the score table are passed over: the best kept are still the first of the
    /// whole ranking (the same tables asked for every unit, where nothing is passed over).
    #[test]
    fn the_best_few_are_the_first_of_the_whole_ranking(
        seed in any::<u64>(),
        query in "((idle|timeout|drain|stream|sticky|balancer|zebra|\"idle timeout\") ){1,4}",
        wanted in 1usize..8,
    ) {
        let corpus = many_units(seed);
        let index = SearchIndex::build(&corpus).unwrap();
        prop_assume!(index.len() > 32);
        let Some(plain) = index.plain_query(&query) else {
            return Ok(());
        };
        let plain = plain.plain();
        let every = index.all.impacts.top(&plain, index.len(), |_| true);
        let few = index.all.impacts.top(&plain, wanted, |_| true);
        prop_assert_eq!(&few[..], &every[..wanted.min(every.len())]);
        // Through a filter too (every other page).
        let keep = |slot: usize| index.slots[slot].0.is_multiple_of(2);
        let every: Vec<(f32, usize)> = index.all.impacts.top(&plain, index.len(), keep);
        let few = index.all.impacts.top(&plain, wanted, keep);
        prop_assert_eq!(&few[..], &every[..wanted.min(every.len())]);
    }
}
