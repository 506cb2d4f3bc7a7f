import { html } from './html';

describe('html templates', () => {
  it('escape every interpolated text, attributes included', () => {
    const hostile = `"><script>alert('x')</script>&`;
    expect(html`<a title="${hostile}">${hostile}</a>`.value).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
  });

  it('keep nested markup, join lists and drop nothing-values', () => {
    const items = ['a<b', 'c'].map((text) => html`<li>${text}</li>`);
    // prettier-ignore
    const list = html`<ul>${items}${null}${undefined}${false}${0}</ul>`;
    expect(list.value).toBe('<ul><li>a&lt;b</li><li>c</li>0</ul>');
  });
});
