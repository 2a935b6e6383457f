import { mount } from 'svelte';
import './styles.css';
import App from './App.svelte';
import { connect } from './lib/client.ts';
import { AppState } from './state/app.svelte.ts';
import { PhotosState } from './state/photos.svelte.ts';
import { SearchState } from './state/search.svelte.ts';
import { AlbumsState } from './state/albums.svelte.ts';

const client = connect();
const app = new AppState(client);
const search = new SearchState(client);
const photos = new PhotosState(client);
const albums = new AlbumsState(client);
app.applyTheme();

mount(App, { target: document.getElementById('app')!, props: { app, search, photos, albums } });
