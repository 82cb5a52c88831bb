import { describe, expect, it } from 'vitest';
import { SeqLine } from './seq-line.ts';

describe('SeqLine', () => {
  it('ranks, removes from anywhere and shifts from the head', () => {
    const line = new SeqLine();
    for (let i = 1; i <= 5; i++) line.push(`u${i}`, i * 10);
    expect(line.rank('u3')).toBe(2);
    expect(line.remove('u2')).toBe(true);
    expect(line.remove('u2')).toBe(false);
    expect(line.rank('u3')).toBe(1);
    expect(line.shift(2)).toEqual(['u1', 'u3']);
    expect(line.rank('u5')).toBe(1);
    expect(line.rank('u1')).toBe(-1);
    expect(line.size).toBe(2);
    expect(line.remove('u4')).toBe(true);
    expect(line.shift(10)).toEqual(['u5']);
    expect(line.size).toBe(0);
  });

  it('stays consistent across compactions of a long line', () => {
    const line = new SeqLine();
    for (let i = 1; i <= 5000; i++) line.push(`u${i}`, i);
    expect(line.shift(3000)).toHaveLength(3000);
    line.remove('u4000');
    expect(line.rank('u4001')).toBe(999);
    expect(line.rank('u5000')).toBe(1998);
    line.push('late', 9999);
    expect(line.rank('late')).toBe(1999);
  });

  it('inserts a restored place in order, equal numbers by user id as Redis orders them', () => {
    const line = new SeqLine();
    for (let i = 1; i <= 4; i++) line.push(`u${i}`, i * 10);
    line.shift(1);
    line.insert('early', 5);
    line.insert('b', 25);
    line.insert('a', 25);
    line.insert('last', 99);
    expect(line.shift(10)).toEqual(['early', 'u2', 'a', 'b', 'u3', 'u4', 'last']);
    line.push('x', 100);
    line.insert('y', 100);
    expect(line.rank('y')).toBe(1);
    expect(line.remove('x')).toBe(true);
    expect(line.rank('y')).toBe(0);
  });
});
