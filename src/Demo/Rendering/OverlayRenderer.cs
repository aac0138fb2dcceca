using System;
using HeadTracker.Runtime.Detection;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace HeadTracker.Demo.Rendering;

/// <summary>
/// Draws a camera frame as a texture and the detections over it (face boxes as outlines, keypoints
/// as squares) with two small shader programs. Owns its GL objects; use it on the GL thread only.
/// </summary>
internal sealed unsafe class OverlayRenderer : IDisposable
{
    private const int FloatsPerVertex = 6; // x, y in frame pixels; r, g, b, a
    private const int MaxVertices = 16 * ((4 + FaceDetections.KeypointCount) * 6);

    private const string FrameVertex = """
        #version 330 core
        layout(location = 0) in vec2 aPos;
        out vec2 vUv;
        void main() {
            vUv = vec2(aPos.x * 0.5 + 0.5, 0.5 - aPos.y * 0.5);
            gl_Position = vec4(aPos, 0.0, 1.0);
        }
        """;

    private const string FrameFragment = """
        #version 330 core
        in vec2 vUv;
        uniform sampler2D uFrame;
        out vec4 color;
        void main() { color = vec4(texture(uFrame, vUv).rgb, 1.0); }
        """;

    private const string OverlayVertex = """
        #version 330 core
        layout(location = 0) in vec2 aPixel;
        layout(location = 1) in vec4 aColor;
        uniform vec2 uFrameSize;
        out vec4 vColor;
        void main() {
            vColor = aColor;
            gl_Position = vec4(aPixel.x / uFrameSize.x * 2.0 - 1.0, 1.0 - aPixel.y / uFrameSize.y * 2.0, 0.0, 1.0);
        }
        """;

    private const string OverlayFragment = """
        #version 330 core
        in vec4 vColor;
        out vec4 color;
        void main() { color = vColor; }
        """;

    /// <summary>Face box colour (RGBA).</summary>
    public static readonly float[] BoxColor = [0.1f, 1f, 0.2f, 1f];

    /// <summary>Keypoint colours (RGBA), one per BlazeFace keypoint.</summary>
    public static readonly float[][] KeypointColors =
    [
        [1f, 0.2f, 0.2f, 1f], [0.2f, 0.4f, 1f, 1f], [1f, 1f, 0.2f, 1f],
        [1f, 0.2f, 1f, 1f], [0.2f, 1f, 1f, 1f], [1f, 0.6f, 0.1f, 1f],
    ];

    private readonly GL _gl;
    private readonly uint _frameProgram, _overlayProgram;
    private readonly uint _quadVao, _quadVbo, _overlayVao, _overlayVbo, _texture;
    private readonly int _frameSizeUniform;
    private readonly float[] _vertices = new float[MaxVertices * FloatsPerVertex];
    private int _textureWidth, _textureHeight;

    public OverlayRenderer(GL gl)
    {
        _gl = gl;
        _frameProgram = Program(FrameVertex, FrameFragment);
        _overlayProgram = Program(OverlayVertex, OverlayFragment);
        _frameSizeUniform = _gl.GetUniformLocation(_overlayProgram, "uFrameSize");

        _quadVao = _gl.GenVertexArray();
        _gl.BindVertexArray(_quadVao);
        _quadVbo = _gl.GenBuffer();
        _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _quadVbo);
        ReadOnlySpan<float> quad = [-1f, -1f, 1f, -1f, -1f, 1f, 1f, 1f];
        _gl.BufferData(BufferTargetARB.ArrayBuffer, quad, BufferUsageARB.StaticDraw);
        _gl.EnableVertexAttribArray(0);
        _gl.VertexAttribPointer(0, 2, VertexAttribPointerType.Float, false, 2 * sizeof(float), null);

        _overlayVao = _gl.GenVertexArray();
        _gl.BindVertexArray(_overlayVao);
        _overlayVbo = _gl.GenBuffer();
        _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _overlayVbo);
        _gl.BufferData(BufferTargetARB.ArrayBuffer, (nuint)(_vertices.Length * sizeof(float)), null, BufferUsageARB.StreamDraw);
        _gl.EnableVertexAttribArray(0);
        _gl.VertexAttribPointer(0, 2, VertexAttribPointerType.Float, false, FloatsPerVertex * sizeof(float), null);
        _gl.EnableVertexAttribArray(1);
        _gl.VertexAttribPointer(1, 4, VertexAttribPointerType.Float, false, FloatsPerVertex * sizeof(float), (void*)(2 * sizeof(float)));
        _gl.BindVertexArray(0);

        _texture = _gl.GenTexture();
        _gl.BindTexture(TextureTarget.Texture2D, _texture);
        _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMinFilter, (int)TextureMinFilter.Linear);
        _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMagFilter, (int)TextureMagFilter.Linear);
        _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapS, (int)TextureWrapMode.ClampToEdge);
        _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapT, (int)TextureWrapMode.ClampToEdge);
    }

    /// <summary>Draws the frame filling the viewport, then the detections in frame pixels.</summary>
    public void Draw(Mat bgr, FaceDetections faces, int viewportWidth, int viewportHeight)
    {
        if (!bgr.IsContinuous() || bgr.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException("expected a continuous 8-bit BGR frame", nameof(bgr));
        }

        _gl.Viewport(0, 0, (uint)viewportWidth, (uint)viewportHeight);
        _gl.Disable(EnableCap.DepthTest);
        UploadFrame(bgr);
        _gl.UseProgram(_frameProgram);
        _gl.BindVertexArray(_quadVao);
        _gl.DrawArrays(PrimitiveType.TriangleStrip, 0, 4);

        int count = BuildOverlay(faces, Math.Max(2f, bgr.Width / 320f));
        if (count > 0)
        {
            _gl.Enable(EnableCap.Blend);
            _gl.BlendFunc(BlendingFactor.SrcAlpha, BlendingFactor.OneMinusSrcAlpha);
            _gl.UseProgram(_overlayProgram);
            _gl.Uniform2(_frameSizeUniform, (float)bgr.Width, bgr.Height);
            _gl.BindVertexArray(_overlayVao);
            _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _overlayVbo);
            _gl.BufferSubData(BufferTargetARB.ArrayBuffer, 0, new ReadOnlySpan<float>(_vertices, 0, count * FloatsPerVertex));
            _gl.DrawArrays(PrimitiveType.Triangles, 0, (uint)count);
            _gl.Disable(EnableCap.Blend);
        }

        _gl.BindVertexArray(0);
    }

    public void Dispose()
    {
        _gl.DeleteTexture(_texture);
        _gl.DeleteBuffer(_quadVbo);
        _gl.DeleteBuffer(_overlayVbo);
        _gl.DeleteVertexArray(_quadVao);
        _gl.DeleteVertexArray(_overlayVao);
        _gl.DeleteProgram(_frameProgram);
        _gl.DeleteProgram(_overlayProgram);
    }

    private void UploadFrame(Mat bgr)
    {
        _gl.BindTexture(TextureTarget.Texture2D, _texture);
        _gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
        if (bgr.Width != _textureWidth || bgr.Height != _textureHeight)
        {
            _gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.Rgb8, (uint)bgr.Width, (uint)bgr.Height, 0,
                PixelFormat.Bgr, PixelType.UnsignedByte, (void*)bgr.DataPointer);
            _textureWidth = bgr.Width;
            _textureHeight = bgr.Height;
        }
        else
        {
            _gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)bgr.Width, (uint)bgr.Height,
                PixelFormat.Bgr, PixelType.UnsignedByte, (void*)bgr.DataPointer);
        }
    }

    /// <summary>Fills the vertex buffer with triangles: each box as four edge bars, each keypoint
    /// as a square. Returns the vertex count.</summary>
    private int BuildOverlay(FaceDetections faces, float thickness)
    {
        int v = 0;
        int maxFaces = MaxVertices / ((4 + FaceDetections.KeypointCount) * 6);
        for (int f = 0; f < Math.Min(faces.Count, maxFaces); f++)
        {
            float x0 = faces.Boxes[f * 4], y0 = faces.Boxes[(f * 4) + 1], x1 = faces.Boxes[(f * 4) + 2], y1 = faces.Boxes[(f * 4) + 3];
            float t = thickness;
            v = Rect(v, x0 - t, y0 - t, x1 + t, y0, BoxColor);
            v = Rect(v, x0 - t, y1, x1 + t, y1 + t, BoxColor);
            v = Rect(v, x0 - t, y0, x0, y1, BoxColor);
            v = Rect(v, x1, y0, x1 + t, y1, BoxColor);
            float r = thickness * 1.5f;
            for (int k = 0; k < FaceDetections.KeypointCount; k++)
            {
                float kx = faces.Keypoints[(f * 12) + (k * 2)], ky = faces.Keypoints[(f * 12) + (k * 2) + 1];
                v = Rect(v, kx - r, ky - r, kx + r, ky + r, KeypointColors[k]);
            }
        }

        return v;
    }

    private int Rect(int v, float x0, float y0, float x1, float y1, float[] c)
    {
        v = Vertex(v, x0, y0, c);
        v = Vertex(v, x1, y0, c);
        v = Vertex(v, x0, y1, c);
        v = Vertex(v, x1, y0, c);
        v = Vertex(v, x1, y1, c);
        return Vertex(v, x0, y1, c);
    }

    private int Vertex(int v, float x, float y, float[] c)
    {
        int i = v * FloatsPerVertex;
        _vertices[i] = x;
        _vertices[i + 1] = y;
        _vertices[i + 2] = c[0];
        _vertices[i + 3] = c[1];
        _vertices[i + 4] = c[2];
        _vertices[i + 5] = c[3];
        return v + 1;
    }

    private uint Program(string vertexSource, string fragmentSource)
    {
        uint vs = Shader(ShaderType.VertexShader, vertexSource);
        uint fs = Shader(ShaderType.FragmentShader, fragmentSource);
        uint program = _gl.CreateProgram();
        _gl.AttachShader(program, vs);
        _gl.AttachShader(program, fs);
        _gl.LinkProgram(program);
        _gl.GetProgram(program, ProgramPropertyARB.LinkStatus, out int linked);
        _gl.DeleteShader(vs);
        _gl.DeleteShader(fs);
        if (linked == 0)
        {
            throw new InvalidOperationException($"shader program failed to link: {_gl.GetProgramInfoLog(program)}");
        }

        return program;
    }

    private uint Shader(ShaderType type, string source)
    {
        uint shader = _gl.CreateShader(type);
        _gl.ShaderSource(shader, source);
        _gl.CompileShader(shader);
        _gl.GetShader(shader, ShaderParameterName.CompileStatus, out int ok);
        if (ok == 0)
        {
            throw new InvalidOperationException($"{type} failed to compile: {_gl.GetShaderInfoLog(shader)}");
        }

        return shader;
    }
}
