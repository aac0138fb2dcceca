using HeadTracking.Demo.Rendering;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Tests;

public class HeadlessGlTests
{
    [Fact]
    public void Surfaceless_egl_context_clears_to_a_colour_that_reads_back_exactly()
    {
        using EglContext egl = EglContext.CreateHeadless(64, 48);
        GL gl = egl.Gl;

        gl.Viewport(0, 0, 64, 48);
        gl.ClearColor(64 / 255f, 128 / 255f, 191 / 255f, 1f);
        gl.Clear(ClearBufferMask.ColorBufferBit);
        gl.Finish();

        byte[] pixels = new byte[64 * 48 * 4];
        gl.ReadPixels<byte>(0, 0, 64, 48, PixelFormat.Rgba, PixelType.UnsignedByte, pixels);
        Assert.Equal(GLEnum.NoError, gl.GetError());

        for (int i = 0; i < pixels.Length; i += 4)
        {
            Assert.Equal(64, pixels[i]);
            Assert.Equal(128, pixels[i + 1]);
            Assert.Equal(191, pixels[i + 2]);
            Assert.Equal(255, pixels[i + 3]);
        }
    }

    [Fact]
    public void Scissored_clear_changes_only_the_scissor_rectangle()
    {
        // Proves the framebuffer is really rendered to, not just filled with the clear value.
        using EglContext egl = EglContext.CreateHeadless(32, 32);
        GL gl = egl.Gl;
        gl.ClearColor(0f, 0f, 0f, 1f);
        gl.Clear(ClearBufferMask.ColorBufferBit);
        gl.Enable(EnableCap.ScissorTest);
        gl.Scissor(8, 4, 10, 6);
        gl.ClearColor(1f, 0f, 0f, 1f);
        gl.Clear(ClearBufferMask.ColorBufferBit);
        gl.Disable(EnableCap.ScissorTest);

        byte[] pixels = new byte[32 * 32 * 4];
        gl.ReadPixels<byte>(0, 0, 32, 32, PixelFormat.Rgba, PixelType.UnsignedByte, pixels);
        for (int y = 0; y < 32; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                bool inside = x >= 8 && x < 18 && y >= 4 && y < 10;
                Assert.Equal(inside ? 255 : 0, pixels[((y * 32) + x) * 4]);
            }
        }
    }
}
