//! POST and GET, and a pair of values, one for each: the pacers, counters, rates and
//! statistics of a node all come in such pairs.

use std::ops::{AddAssign, Index, IndexMut};

use serde::{Deserialize, Serialize};

/// POST or GET: each has its own rate and pacer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Post,
    Get,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Post, Direction::Get];

    /// The direction a run's figures are about: GETs in a read-only run, POSTs otherwise.
    #[must_use]
    pub fn shown(read_only: bool) -> Self {
        if read_only {
            Direction::Get
        } else {
            Direction::Post
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Post => "post",
            Direction::Get => "get",
        }
    }
}

/// One value for POSTs and one for GETs, read by `pair[direction]`. Serialised as
/// `{"post": .., "get": ..}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerDirection<T> {
    pub post: T,
    pub get: T,
}

impl<T> PerDirection<T> {
    /// Builds both values from the direction they are for.
    pub fn from_fn(mut value: impl FnMut(Direction) -> T) -> Self {
        Self {
            post: value(Direction::Post),
            get: value(Direction::Get),
        }
    }

    /// Both values changed by the same function.
    pub fn map<U>(self, mut change: impl FnMut(T) -> U) -> PerDirection<U> {
        PerDirection {
            post: change(self.post),
            get: change(self.get),
        }
    }

    /// Both values by reference.
    pub fn each_ref(&self) -> PerDirection<&T> {
        PerDirection {
            post: &self.post,
            get: &self.get,
        }
    }

    /// Both values by mutable reference.
    pub fn each_mut(&mut self) -> PerDirection<&mut T> {
        PerDirection {
            post: &mut self.post,
            get: &mut self.get,
        }
    }

    /// Each direction with its value, POST first.
    pub fn iter(&self) -> impl Iterator<Item = (Direction, &T)> {
        [(Direction::Post, &self.post), (Direction::Get, &self.get)].into_iter()
    }
}

impl<T: AddAssign> AddAssign for PerDirection<T> {
    fn add_assign(&mut self, other: Self) {
        self.post += other.post;
        self.get += other.get;
    }
}

impl<T> Index<Direction> for PerDirection<T> {
    type Output = T;

    fn index(&self, direction: Direction) -> &T {
        match direction {
            Direction::Post => &self.post,
            Direction::Get => &self.get,
        }
    }
}

impl<T> IndexMut<Direction> for PerDirection<T> {
    fn index_mut(&mut self, direction: Direction) -> &mut T {
        match direction {
            Direction::Post => &mut self.post,
            Direction::Get => &mut self.get,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_indexed_by_direction() {
        let mut rates = PerDirection { post: 5, get: 7 };
        assert_eq!((rates[Direction::Post], rates[Direction::Get]), (5, 7));
        rates[Direction::Get] += 1;
        assert_eq!(rates.map(|r| r * 2), PerDirection { post: 10, get: 16 });
        let seen: Vec<_> = rates.iter().map(|(d, r)| (d.as_str(), *r)).collect();
        assert_eq!(seen, [("post", 5), ("get", 8)]);
        assert_eq!(PerDirection::from_fn(Direction::as_str).get, "get");
        assert_eq!(
            serde_json::to_string(&rates).unwrap(),
            r#"{"post":5,"get":8}"#
        );
    }
}
