//! A plane-to-plane projective transform (3×3, last entry 1) and the small linear algebra
//! the registration needs. Coordinates are continuous "edge" coordinates: pixel `i` spans
//! `[i, i + 1)` and its centre is `i + 0.5`, so changing resolution is a pure scale.

/// Maps a point of one plane (a template page) to another (a scan of it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [[f64; 3]; 3]);

impl Homography {
    /// The transform that changes nothing.
    pub const IDENTITY: Homography =
        Homography([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// Scales x by `sx` and y by `sy` (a change of resolution).
    pub fn scale(sx: f64, sy: f64) -> Self {
        Homography([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]])
    }

    /// Moves every point by (`dx`, `dy`).
    pub fn translation(dx: f64, dy: f64) -> Self {
        Homography([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])
    }

    /// Turns by `degrees` (clockwise on screen, y pointing down) about (`cx`, `cy`).
    pub fn rotation_about(degrees: f64, cx: f64, cy: f64) -> Self {
        let (s, c) = degrees.to_radians().sin_cos();
        Homography::translation(cx, cy)
            .then_after(Homography([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]))
            .then_after(Homography::translation(-cx, -cy))
    }

    /// `self ∘ inner`: applies `inner` first, then `self`.
    pub fn then_after(self, inner: Homography) -> Self {
        let (a, b) = (self.0, inner.0);
        let mut out = [[0.0; 3]; 3];
        for (r, row) in out.iter_mut().enumerate() {
            for (c, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| a[r][k] * b[k][c]).sum();
            }
        }
        Homography(out).normalized()
    }

    /// The same transform with its last entry 1 (when that is possible).
    fn normalized(self) -> Self {
        let m = self.0;
        let d = m[2][2];
        if d.abs() < 1e-12 {
            return self;
        }
        Homography(m.map(|row| row.map(|v| v / d)))
    }

    /// Where `(x, y)` lands; None at the line the transform sends to infinity.
    pub fn apply(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let m = &self.0;
        let w = m[2][0] * x + m[2][1] * y + m[2][2];
        if w.abs() < 1e-12 {
            return None;
        }
        Some((
            (m[0][0] * x + m[0][1] * y + m[0][2]) / w,
            (m[1][0] * x + m[1][1] * y + m[1][2]) / w,
        ))
    }

    /// The transform that undoes this one; None when it is degenerate.
    pub fn inverse(&self) -> Option<Self> {
        let m = &self.0;
        let cof = |r0: usize, r1: usize, c0: usize, c1: usize| {
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        let adj = [
            [cof(1, 2, 1, 2), -cof(0, 2, 1, 2), cof(0, 1, 1, 2)],
            [-cof(1, 2, 0, 2), cof(0, 2, 0, 2), -cof(0, 1, 0, 2)],
            [cof(1, 2, 0, 1), -cof(0, 2, 0, 1), cof(0, 1, 0, 1)],
        ];
        let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
        if det.abs() < 1e-15 {
            return None;
        }
        Some(Homography(adj.map(|row| row.map(|v| v / det))).normalized())
    }

    /// The transform between the same planes seen at other resolutions: `from` scales the
    /// source plane's coordinates to this transform's input, `to` its output to the target.
    pub fn rescaled(&self, from: f64, to: f64) -> Self {
        Homography::scale(to, to)
            .then_after(*self)
            .then_after(Homography::scale(1.0 / from, 1.0 / from))
    }

    /// The homography with parameters `p` about the identity (`H = I + [p0 p2 p4; p1 p3 p5;
    /// p6 p7 0]`), the parametrisation the Lucas-Kanade update uses.
    pub fn from_increment(p: &[f64; 8]) -> Self {
        Homography([
            [1.0 + p[0], p[2], p[4]],
            [p[1], 1.0 + p[3], p[5]],
            [p[6], p[7], 1.0],
        ])
    }
}

/// Solves `a x = b` for a small dense system by Gaussian elimination with partial
/// pivoting; None when `a` is singular.
pub fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..N {
            let f = a[row][col] / a[col][col];
            if f == 0.0 {
                continue;
            }
            let pivot_row = a[col];
            for (cell, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    #[test]
    fn composition_inverse_and_rescaling_agree_with_the_points() {
        let h = Homography::rotation_about(3.0, 500.0, 700.0)
            .then_after(Homography::scale(1.02, 0.98))
            .then_after(Homography::translation(12.0, -30.0));
        let inv = h.inverse().unwrap();
        for (x, y) in [(0.0, 0.0), (1240.0, 0.0), (1240.0, 1754.0), (33.0, 900.0)] {
            let there = h.apply(x, y).unwrap();
            assert!(close(inv.apply(there.0, there.1).unwrap(), (x, y)));
            // The same map between half-resolution copies of both planes.
            let half = h.rescaled(0.5, 0.5).apply(x * 0.5, y * 0.5).unwrap();
            assert!(close(half, (there.0 * 0.5, there.1 * 0.5)));
        }
        let rotated = Homography::rotation_about(90.0, 0.0, 0.0)
            .apply(1.0, 0.0)
            .unwrap();
        assert!(
            close(rotated, (0.0, 1.0)),
            "y points down: +90° turns x into y"
        );
    }

    #[test]
    fn solve_finds_the_solution_and_refuses_a_singular_system() {
        let x = solve(
            [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]],
            [3.0, 5.0, 5.0],
        )
        .unwrap();
        for (got, want) in x.iter().zip([1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-9);
        }
        assert_eq!(solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]), None);
    }
}
