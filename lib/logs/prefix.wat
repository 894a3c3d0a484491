(module
  (memory (export "memory") 1)
  ;; prefix(src, len, dst, pfx, plen) -> bytes written to dst, or -1 when src holds a byte >= 0x80 or a CR.
  ;; src holds whole lines (its last byte is \n) and is followed by 16 bytes of zeros;
  ;; dst has 48 bytes of slack past what is written; plen <= 32; pfx is 32 readable bytes.
  (func (export "prefix") (param $src i32) (param $len i32) (param $dst i32) (param $pfx i32) (param $plen i32) (result i32)
    (local $out i32) (local $i i32) (local $start i32) (local $m i32) (local $nl i32)
    (local $n i32) (local $k i32) (local $v v128) (local $p0 v128) (local $p1 v128)
    (local.set $p0 (v128.load (local.get $pfx)))
    (local.set $p1 (v128.load offset=16 (local.get $pfx)))
    (local.set $out (local.get $dst))
    (v128.store (local.get $out) (local.get $p0))
    (v128.store offset=16 (local.get $out) (local.get $p1))
    (local.set $out (i32.add (local.get $out) (local.get $plen)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (v128.load (i32.add (local.get $src) (local.get $i))))
        (if (i32.or
              (i8x16.bitmask (local.get $v))
              (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13)))))
          (then (return (i32.const -1))))
        (local.set $m (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10)))))
        (block $nolines
          (loop $lines
            (br_if $nolines (i32.eqz (local.get $m)))
            (local.set $nl (i32.add (local.get $i) (i32.ctz (local.get $m))))
            ;; copy src[start, nl] to out, 16 bytes at a time
            (local.set $n (i32.sub (i32.add (local.get $nl) (i32.const 1)) (local.get $start)))
            (local.set $k (i32.const 0))
            (loop $copy
              (v128.store (i32.add (local.get $out) (local.get $k))
                (v128.load (i32.add (i32.add (local.get $src) (local.get $start)) (local.get $k))))
              (local.set $k (i32.add (local.get $k) (i32.const 16)))
              (br_if $copy (i32.lt_u (local.get $k) (local.get $n))))
            (local.set $out (i32.add (local.get $out) (local.get $n)))
            (local.set $start (i32.add (local.get $nl) (i32.const 1)))
            (v128.store (local.get $out) (local.get $p0))
            (v128.store offset=16 (local.get $out) (local.get $p1))
            (local.set $out (i32.add (local.get $out) (local.get $plen)))
            (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
            (br $lines)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $blocks)))
    ;; the prefix after the last line is not part of the output
    (i32.sub (i32.sub (local.get $out) (local.get $plen)) (local.get $dst)))
)
