using System;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Rendering;

/// <summary>
/// An RGBA8 framebuffer object to render into and read back, resized on demand. Owns its GL
/// objects and one readback buffer; use on the GL thread only.
/// </summary>
internal sealed class OffscreenTarget : IDisposable
{
    private readonly GL _gl;
    private readonly uint _framebuffer;
    private readonly uint _colour;
    private byte[] _pixels = [];

    public OffscreenTarget(GL gl)
    {
        _gl = gl;
        _framebuffer = _gl.GenFramebuffer();
        _colour = _gl.GenRenderbuffer();
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Binds the framebuffer for drawing, resizing it first when the size changed.</summary>
    public void Bind(int width, int height)
    {
        _gl.BindFramebuffer(FramebufferTarget.Framebuffer, _framebuffer);
        if (width == Width && height == Height)
        {
            return;
        }

        _gl.BindRenderbuffer(RenderbufferTarget.Renderbuffer, _colour);
        _gl.RenderbufferStorage(RenderbufferTarget.Renderbuffer, InternalFormat.Rgba8, (uint)width, (uint)height);
        _gl.FramebufferRenderbuffer(FramebufferTarget.Framebuffer, FramebufferAttachment.ColorAttachment0, RenderbufferTarget.Renderbuffer, _colour);
        GLEnum status = _gl.CheckFramebufferStatus(FramebufferTarget.Framebuffer);
        if (status != GLEnum.FramebufferComplete)
        {
            throw new InvalidOperationException($"framebuffer {width}x{height} is incomplete: {status}");
        }

        Width = width;
        Height = height;
        _pixels = new byte[width * height * 4];
    }

    /// <summary>Reads the framebuffer back as RGBA rows, bottom row first (OpenGL's order). The
    /// returned array is reused by the next call.</summary>
    public byte[] ReadRgba()
    {
        _gl.BindFramebuffer(FramebufferTarget.ReadFramebuffer, _framebuffer);
        _gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
        _gl.ReadPixels<byte>(0, 0, (uint)Width, (uint)Height, PixelFormat.Rgba, PixelType.UnsignedByte, _pixels);
        return _pixels;
    }

    public void Dispose()
    {
        _gl.DeleteFramebuffer(_framebuffer);
        _gl.DeleteRenderbuffer(_colour);
    }
}
